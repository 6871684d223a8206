"""Errors raised by Storm's loaders: each names the file, the place inside it and what was expected."""
from __future__ import annotations


class StormError(Exception):
    """Base class of every error Storm raises on purpose."""


class DataError(StormError):
    """Bad data in a file or message: names the source, the path inside it and what was expected."""

    def __init__(self, source: str, path: str, expected: str, got: object = None) -> None:
        self.source = source
        self.path = path
        self.expected = expected
        self.got = got
        where = f"{source}: {path}" if path else source
        got_text = "" if got is None else f", got {_short(got)}"
        super().__init__(f"{where}: expected {expected}{got_text}")


class FieldError(StormError):
    """A field value that does not match its declaration; the loader adds the file and path."""

    def __init__(self, expected: str, got: object) -> None:
        self.expected = expected
        self.got = got
        super().__init__(f"expected {expected}, got {_short(got)}")


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
