"""A player's profile (which packs are enabled and trusted, and their settings) and its lock file
(each enabled pack's version and content hash when it was locked).

``profile.toml``, in the Storm folder (engine.packs.locations)::

    schema = 1
    enabled = ["base", "forest"]
    trusted = ["forest"]          # packs whose code may run inside the engine; base always may

    [settings.forest]             # checked against the settings forest's pack.toml declares
    density = 0.8

``profile.lock``, beside it, written by ``storm pack lock``::

    schema = 1

    [packs.forest]
    version = "1.2.0"
    hash = "sha256:..."
    files = 12

Both are written atomically; a missing profile means the base pack alone, a missing lock file
means nothing is checked.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from engine.core.asset_ids import PACK_NAME
from engine.core.errors import DataError
from engine.packs.discovery import AvailablePack
from engine.packs.json_text import atomic_write
from engine.packs.manifest import PackManifest, Setting
from engine.packs.pack_hash import PackDigest, content_hash
from engine.packs.resolver import ResolveError
from engine.packs.toml_text import dumps_toml, read_toml

PROFILE_SCHEMA = 1
LOCK_SCHEMA = 1
ALWAYS_TRUSTED = frozenset({"base"})


@dataclass
class Profile:
    """Which packs a player plays with: ``enabled`` ids, ``trusted`` ids (their code runs in the
    engine's process; base always is), and ``settings`` per pack id. ``path``: its file, if any."""

    enabled: list[str] = field(default_factory=lambda: ["base"])
    trusted: list[str] = field(default_factory=list)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    @property
    def source(self) -> str:
        """How messages name the profile: its file, or "(default profile)"."""
        return str(self.path) if self.path is not None else "(default profile)"

    def is_trusted(self, pack_id: str) -> bool:
        return pack_id in ALWAYS_TRUSTED or pack_id in self.trusted

    def enable(self, pack_id: str) -> None:
        if pack_id not in self.enabled:
            self.enabled.append(pack_id)

    def disable(self, pack_id: str) -> None:
        self.enabled = [p for p in self.enabled if p != pack_id]


def read_profile(path: Path | str) -> Profile:
    """Read a profile; a missing file is the default profile (base alone). Raises DataError."""
    path = Path(path)
    if not path.exists():
        return Profile(path=path)
    data = read_toml(path, "a profile")
    source = str(path)
    for key in data:
        if key not in ("schema", "enabled", "trusted", "settings"):
            raise DataError(source, key, "one of the keys schema, enabled, trusted, settings", key)
    if data.get("schema", PROFILE_SCHEMA) != PROFILE_SCHEMA:
        raise DataError(source, "schema", f"profile schema {PROFILE_SCHEMA}", data.get("schema"))
    enabled = _ids(data, "enabled", source, ["base"])
    trusted = _ids(data, "trusted", source, [])
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise DataError(source, "settings", "a [settings.<pack id>] table per pack", settings)
    for pack_id, values in settings.items():
        if not PACK_NAME.match(pack_id) or not isinstance(values, dict):
            raise DataError(source, f"settings.{pack_id}", "a [settings.<pack id>] table of setting = value", values)
    return Profile(enabled, trusted, {k: dict(v) for k, v in settings.items()}, path)


def _ids(data: dict[str, Any], key: str, source: str, default: list[str]) -> list[str]:
    value = data.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) and PACK_NAME.match(v) for v in value):
        raise DataError(source, key, "a list of pack ids like [\"base\", \"forest\"]", value)
    twice = sorted({v for v in value if value.count(v) > 1})
    if twice:
        raise DataError(source, key, "each pack id once", twice[0])
    return list(value)


def save_profile(profile: Profile, path: Path | str) -> None:
    """Write a profile atomically (comments in a hand-edited file are not kept)."""
    data: dict[str, Any] = {"schema": PROFILE_SCHEMA, "enabled": profile.enabled, "trusted": profile.trusted}
    if profile.settings:
        data["settings"] = profile.settings
    atomic_write(path, dumps_toml(data, "Storm profile: the packs enabled, the packs trusted to run code in the "
                                        "engine (base always is),\nand their settings. See docs/modding.md."))


def pack_settings(profile: Profile, manifest: PackManifest) -> tuple[dict[str, Any], list[str]]:
    """A pack's settings: its declared defaults with the profile's values over them, and a
    sentence for each profile value that does not fit the declaration (that value is not used)."""
    values = {name: setting.default for name, setting in manifest.settings.items()}
    problems = []
    for name, value in profile.settings.get(manifest.id, {}).items():
        where = f"{profile.source}: settings.{manifest.id}.{name}"
        setting = manifest.settings.get(name)
        if setting is None:
            known = ", ".join(sorted(manifest.settings)) or "none"
            problems.append(f"{where}: {manifest.id} {manifest.version} has no setting {name!r} "
                            f"(its settings: {known})")
            continue
        expected = _setting_fault(setting, value)
        if expected:
            problems.append(f"{where}: expected {expected}, got {value!r}")
        else:
            values[name] = float(value) if setting.type == "float" else value
    return values, problems


def _setting_fault(setting: Setting, value: Any) -> str:
    """What ``value`` should have been, or "" when it fits."""
    kind = setting.type
    if kind == "bool":
        return "" if isinstance(value, bool) else "true or false"
    if kind == "str":
        return "" if isinstance(value, str) and len(value) <= 1000 else "a string of at most 1000 characters"
    if kind == "enum":
        return "" if value in setting.choices else "one of " + ", ".join(repr(c) for c in setting.choices)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    number = number and (kind == "float" or isinstance(value, int))
    low = -math.inf if setting.min is None else setting.min
    high = math.inf if setting.max is None else setting.max
    if number and not math.isnan(value) and low <= value <= high:
        return ""
    bounds = "" if setting.min is None and setting.max is None else f" within [{setting.min}, {setting.max}]"
    return f"{'an integer' if kind == 'int' else 'a number'}{bounds}"


@dataclass(frozen=True)
class LockedPack:
    """What the lock file recorded for one pack."""

    version: str
    hash: str
    files: int


@dataclass
class Lock:
    """A lock file: the locked packs by id, in the load order they were locked in."""

    packs: dict[str, LockedPack]
    source: str = ""


class LockMismatch(ResolveError):
    """In strict mode: packs changed since they were locked (``problems`` says which and how)."""


def make_lock(order: Sequence[AvailablePack]) -> Lock:
    """Hash every pack in ``order`` and record its version."""
    packs = {}
    for pack in order:
        digest = content_hash(pack.files(), str(pack.location))
        packs[pack.id] = LockedPack(str(pack.version), digest.hash, digest.files)
    return Lock(packs)


def write_lock(lock: Lock, path: Path | str) -> None:
    data = {"schema": LOCK_SCHEMA, "packs": {pack_id: {"version": p.version, "hash": p.hash, "files": p.files}
                                             for pack_id, p in lock.packs.items()}}
    atomic_write(path, dumps_toml(data, "Written by `storm pack lock`: each enabled pack's version and content "
                                        "hash.\nA pack that changes afterwards is reported when it loads."))


def read_lock(path: Path | str) -> Lock | None:
    """Read a lock file; None when there is none. Raises DataError naming the key."""
    path = Path(path)
    if not path.exists():
        return None
    source = str(path)
    data = read_toml(path, "a lock file")
    if set(data) - {"schema", "packs"} or data.get("schema") != LOCK_SCHEMA:
        raise DataError(source, "schema", f"a lock file of schema {LOCK_SCHEMA} with a [packs] table",
                        data.get("schema"))
    packs = {}
    for pack_id, entry in _table(data.get("packs", {}), source, "packs").items():
        where = f"packs.{pack_id}"
        entry = _table(entry, source, where)
        version, digest, files = entry.get("version"), entry.get("hash"), entry.get("files")
        if set(entry) != {"version", "hash", "files"} or not isinstance(version, str) or not isinstance(digest, str) \
                or not isinstance(files, int) or isinstance(files, bool):
            raise DataError(source, where, "version (a string), hash (a string) and files (a count)", entry)
        packs[pack_id] = LockedPack(version, digest, files)
    return Lock(packs, source)


def _table(value: Any, source: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DataError(source, where, "a table", value)
    return value


def lock_changes(lock: Lock, order: Iterable[AvailablePack]) -> list[str]:
    """A sentence for each pack that differs from the lock: changed version or files, enabled but
    not locked, locked but no longer enabled."""
    out = []
    seen = set()
    for pack in order:
        seen.add(pack.id)
        locked = lock.packs.get(pack.id)
        if locked is None:
            out.append(f"{pack.label} is enabled but not in the lock file (storm pack lock records it)")
            continue
        digest: PackDigest = content_hash(pack.files(), str(pack.location))
        changes = []
        if locked.version != str(pack.version):
            changes.append(f"version {locked.version} -> {pack.version}")
        if locked.hash != digest.hash:
            changes.append(f"its files differ ({locked.files} file{'' if locked.files == 1 else 's'} locked, "
                           f"{digest.files} now)")
        if changes:
            out.append(f"{pack.id} changed since it was locked: {', and '.join(changes)}")
    for pack_id, locked in lock.packs.items():
        if pack_id not in seen:
            out.append(f"the lock file has {pack_id} {locked.version}, which is no longer enabled")
    return out
