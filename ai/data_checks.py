"""Checks for the AI feature's pack files (personas, dialogue, quests): each failure is a
DataError naming the file, the path inside it and what was expected."""
from __future__ import annotations

from typing import Any

from engine.core.errors import DataError


class Reader:
    """Reads one JSON object of a file with typed getters; ``path`` is where it sits in the file."""

    def __init__(self, data: Any, source: str, path: str = "") -> None:
        if not isinstance(data, dict):
            raise DataError(source, path, "an object", data)
        self.data, self.source, self.path = data, source, path

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def known(self, *keys: str) -> None:
        """Refuse keys not in ``keys`` (a typo should not pass silently)."""
        for key in self.data:
            if key not in keys:
                raise DataError(self.source, self.where(str(key)), f"one of the keys {', '.join(keys)}")

    def has(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str, default: str | None = None, max_length: int = 2000, empty: bool = True) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise DataError(self.source, self.where(key), f"a string of at most {max_length} characters (required)")
        if not isinstance(value, str) or len(value) > max_length or (not empty and not value.strip()):
            raise DataError(self.source, self.where(key),
                            f"a {'non-empty ' if not empty else ''}string of at most {max_length} characters", value)
        return value

    def texts(self, key: str, max_items: int = 200, max_length: int = 1000) -> list[str]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or len(value) > max_items:
            raise DataError(self.source, self.where(key), f"a list of at most {max_items} strings", value)
        for index, item in enumerate(value):
            if not isinstance(item, str) or len(item) > max_length:
                raise DataError(self.source, f"{self.where(key)}[{index}]",
                                f"a string of at most {max_length} characters", item)
        return list(value)

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise DataError(self.source, self.where(key), f"a number from {low:g} to {high:g}", value)
        return float(value)

    def flag(self, key: str, default: bool | None = None) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise DataError(self.source, self.where(key), "true or false" + (" (required)" if default is None else ""),
                            value)
        return value

    def objects(self, key: str, max_items: int = 500) -> list["Reader"]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or len(value) > max_items:
            raise DataError(self.source, self.where(key), f"a list of at most {max_items} objects", value)
        return [Reader(item, self.source, f"{self.where(key)}[{i}]") for i, item in enumerate(value)]

    def mapping(self, key: str, max_items: int = 500) -> dict[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict) or len(value) > max_items:
            raise DataError(self.source, self.where(key), f"an object of at most {max_items} entries", value)
        return value

    def child(self, key: str) -> "Reader":
        return Reader(self.data.get(key, {}), self.source, self.where(key))
