"""Writing the small TOML files Storm keeps for a player (profile, lock file), and reading TOML with
the same size cap and error form as every other loader. Reading is tomllib's; writing covers
what those files hold: strings, numbers, booleans, lists of them, and tables of those."""
from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Any

from engine.core.errors import DataError

MAX_TOML_BYTES = 1024 * 1024
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """Read a TOML file (``what`` names it in errors: "a profile"); raises DataError naming the file."""
    try:
        size = path.stat().st_size
        if size > MAX_TOML_BYTES:
            raise DataError(str(path), "", f"{what} under {MAX_TOML_BYTES} bytes", f"{size} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(str(path), "", f"{what} that can be read ({exc.strerror})") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DataError(str(path), f"byte {exc.start}", "UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(str(path), "", f"valid TOML ({exc})") from None


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_string(key)


def toml_string(text: str) -> str:
    out = ['"']
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as a TOML value")


def dumps_toml(data: dict[str, Any], comment: str = "") -> str:
    """TOML text for ``data``: plain values first, then one ``[table]`` per nested dict (in the
    order given, so the text is stable); ``comment`` lines go on top, each prefixed ``# ``."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    _table(data, [], lines)
    return "\n".join(lines).strip("\n") + "\n"


def _table(data: dict[str, Any], prefix: list[str], lines: list[str]) -> None:
    tables = [(key, value) for key, value in data.items() if isinstance(value, dict)]
    plain = [(key, value) for key, value in data.items() if not isinstance(value, dict)]
    if prefix and (plain or not tables):
        lines += ["", "[" + ".".join(toml_key(part) for part in prefix) + "]"]
    lines += [f"{toml_key(key)} = {toml_value(value)}" for key, value in plain]
    for key, value in tables:
        _table(value, [*prefix, key], lines)
