"""Versions and version ranges of packs and of the engine API.

Versions are SemVer 2.0 (``1.4.0``, ``2.0.0-beta.1``), parsed by the ``semver`` library. A range
is one or more comparisons joined by commas or spaces, all of which must hold:

    ">=1.2"            at least 1.2.0
    ">=1.2, <2"        1.2.0 up to, not including, 2.0.0
    "^1.4"             compatible with 1.4: >=1.4.0, <2.0.0  (^0.3 means >=0.3.0, <0.4.0)
    "~1.4.2"           patch updates: >=1.4.2, <1.5.0
    "1.4.2" or "==1.4.2"   exactly that version;  "*" or ""   any version

Short versions (``1.2``) mean ``1.2.0`` in a range.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import semver

_COMPARISON = re.compile(r"^(>=|<=|==|!=|>|<|\^|~|=)?\s*(\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
MAX_RANGE_LENGTH = 200


class VersionError(ValueError):
    """A version or range that cannot be read; the message says what was expected (``expected``)
    and what came (when it was text)."""

    def __init__(self, expected: str, *got: object) -> None:
        self.expected = expected
        super().__init__(f"{expected}, got {got[0]!r}" if got else expected)


def parse_version(text: object) -> semver.Version:
    """A SemVer version like ``1.4.0``; raises VersionError."""
    if not isinstance(text, str) or len(text) > 100:
        raise VersionError("a version like '1.4.0' (SemVer: major.minor.patch)")
    try:
        return semver.Version.parse(text)
    except ValueError:
        raise VersionError("a version like '1.4.0' (SemVer: major.minor.patch)", text) from None


def parse_short_version(text: object) -> semver.Version:
    """A version that may leave out its minor or patch number (``1.0`` means ``1.0.0``), like the
    engine's ``API_VERSION``; raises VersionError."""
    if not isinstance(text, str) or len(text) > 100 or not _COMPARISON.match(text) or text[0] in "<>=!^~":
        raise VersionError("a version like '1.0' or '1.4.2'", text)
    return _loose(text)


def _loose(text: str) -> semver.Version:
    core, sep, rest = text.partition("-") if "-" in text else text.partition("+")
    parts = core.split(".")
    while len(parts) < 3:
        parts.append("0")
    return semver.Version.parse(".".join(parts) + (sep + rest if sep else ""))


@dataclass(frozen=True)
class VersionRange:
    """A parsed range: comparisons that must all hold, and the text it came from."""

    text: str
    comparisons: tuple[tuple[str, semver.Version], ...]

    def allows(self, version: semver.Version | str) -> bool:
        if isinstance(version, str):
            version = parse_version(version)
        for op, bound in self.comparisons:
            if not _compare(version, op, bound):
                return False
        return True

    def __str__(self) -> str:
        return self.text or "*"


def _compare(version: semver.Version, op: str, bound: semver.Version) -> bool:
    if op == ">=":
        return version >= bound
    if op == ">":
        return version > bound
    if op == "<=":
        return version <= bound
    if op == "<":
        return version < bound
    if op == "!=":
        return version != bound
    return version == bound


def parse_range(text: object) -> VersionRange:
    """A version range (see the module docstring); raises VersionError saying what was expected."""
    expected = "a version range like '>=1.2, <2' or '^1.4' or '*'"
    if not isinstance(text, str) or len(text) > MAX_RANGE_LENGTH:
        raise VersionError(expected)
    stripped = text.strip()
    if stripped in ("", "*"):
        return VersionRange(stripped, ())
    comparisons: list[tuple[str, semver.Version]] = []
    for part in re.split(r"\s*,\s*|\s+(?=[<>=!^~\d])", stripped):
        match = _COMPARISON.match(part.strip())
        if match is None:
            raise VersionError(expected, text)
        op, number = match.group(1) or "==", match.group(2)
        try:
            bound = _loose(number)
        except ValueError:
            raise VersionError(expected, text) from None
        if op == "^":
            upper = bound.bump_major() if bound.major else (bound.bump_minor() if bound.minor else bound.bump_patch())
            comparisons += [(">=", bound), ("<", upper)]
        elif op == "~":
            comparisons += [(">=", bound), ("<", bound.bump_minor())]
        else:
            comparisons.append(("==" if op == "=" else op, bound))
    return VersionRange(stripped, tuple(comparisons))
