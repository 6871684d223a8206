"""Errors raised by Storm's loaders: each names the file, the place inside it and what was expected.

What a message quotes from a file (names, keys, values) is made printable and cut to a readable
length first: a newline or escape sequence in an entity name cannot forge another line of output,
and a 5 MB name does not become a 5 MB message.
"""
from __future__ import annotations

import reprlib
import unicodedata

MAX_PART = 200  # characters of a source or path quoted in a message
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 6
_REPR.maxlevel = 3


class StormError(Exception):
    """Base class of every error Storm raises on purpose."""


class DataError(StormError):
    """Bad data in a file or message: names the source, the path inside it and what was expected."""

    def __init__(self, source: str, path: str, expected: str, got: object = None) -> None:
        self.source = source
        self.path = path
        self.expected = expected
        self.got = got
        shown_source, shown_path = printable(str(source)), printable(str(path))
        where = f"{shown_source}: {shown_path}" if path else shown_source
        got_text = "" if got is None else f", got {_short(got)}"
        super().__init__(f"{where}: expected {printable(str(expected), 4 * MAX_PART)}{got_text}")


class FieldError(StormError):
    """A field value that does not match its declaration; the loader adds the file and path."""

    def __init__(self, expected: str, got: object) -> None:
        self.expected = expected
        self.got = got
        super().__init__(f"expected {expected}, got {_short(got)}")


def printable(text: str, limit: int = MAX_PART) -> str:
    """``text`` with control, format and separator characters (and lone surrogates) escaped as
    ``\\uXXXX``, cut to ``limit`` characters with "..." (only the part shown is looked at)."""
    cut = len(text) > limit
    part = text[: limit - 3] if cut else text
    if part.isprintable() and part.isascii():
        return part + "..." if cut else part
    out = []
    for char in part:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF or (not char.isprintable() and unicodedata.category(char)[0] in "CZ"
                                        and char != " "):
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    shown = "".join(out)
    return shown + "..." if cut else shown


def _short(value: object, limit: int = 60) -> str:
    """A bounded repr: large containers and long strings are cut before they are written out."""
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
