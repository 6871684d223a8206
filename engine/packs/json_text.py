"""Reading and writing Storm's JSON text files: strict parsing with clear errors, a canonical
diff-friendly layout (short lists of numbers on one line), and atomic saves."""
from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from engine.core.errors import DataError
from engine.packs.json_locate import locate
from engine.packs.sources import read_file

MAX_FILE_BYTES = 64 * 1024 * 1024


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # rare: find the key that came twice
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


MAX_INT_DIGITS = 4300  # Python's own default limit; far larger than any number a field can hold


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise ValueError(f"a number of at most {MAX_INT_DIGITS} digits, got one of {len(text)} starting {text[:12]}")
    return int(text)


def parse_json(text: str, source: str) -> Any:
    """Parse JSON text; raises DataError naming the line and column of a syntax error."""
    # Python itself refuses integers of over 4300 digits (int_max_str_digits) quickly; only when
    # that limit was lifted does each integer need the (slower) check of ours.
    limit = sys.get_int_max_str_digits()
    int_check = {"parse_int": _parse_int} if limit == 0 or limit > MAX_INT_DIGITS else {}
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant, **int_check)
    except json.JSONDecodeError as exc:
        raise DataError(source, f"line {exc.lineno} column {exc.colno}", f"valid JSON ({exc.msg})") from None
    except _DuplicateKey as exc:
        place = locate(text, exc.args[0])
        raise DataError(source, str(place) if place else "",
                        f"each key once per object (key {exc.args[0]!r} appears twice)") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            raise DataError(source, "", f"valid JSON (a number of at most {MAX_INT_DIGITS} digits)") from None
        place = locate(text) if "not a number JSON allows" in str(exc) else None
        raise DataError(source, str(place) if place else "", f"valid JSON ({exc})") from None
    except RecursionError:
        raise DataError(source, "", "JSON nested less deeply") from None


def read_json(path: Path | str, budget: int = MAX_FILE_BYTES) -> Any:
    """Read and parse a JSON file outside the packs (a world, a user's settings); every failure is
    a DataError naming the file. Files inside packs are read through the ContentRegistry."""
    return parse_json_bytes(read_file(path, budget), str(path))


def read_text(path: Path | str, budget: int = MAX_FILE_BYTES) -> str:
    """A UTF-8 text file outside the packs (a recording, a log), read within ``budget`` bytes and
    without blocking on a pipe; every failure is a DataError naming the file."""
    raw = read_file(path, budget)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(str(path), f"byte {exc.start}", "UTF-8 text") from None


def parse_json_bytes(raw: bytes, source: str) -> Any:
    """Decode UTF-8 and parse JSON; raises DataError naming ``source``, the byte, line or column.
    A UTF-8 byte order mark at the start (some Windows editors write one) is allowed."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(source, f"byte {exc.start}", "UTF-8 text") from None
    return parse_json(text, source)


def check_json_data(value: Any, source: str, limit: int = MAX_FILE_BYTES) -> Any:
    """Data that did not come from a JSON file (an importer's result) as if it had: plain JSON
    values only (objects with string keys, lists, strings, finite numbers, true/false/null), at
    most ``limit`` bytes written out; a fresh copy, or a DataError naming ``source``."""
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise DataError(source, "", f"plain JSON data from its importer ({exc})") from None
    except RecursionError:
        raise DataError(source, "", "JSON data nested less deeply from its importer") from None
    if len(text) > limit:
        raise DataError(source, "", f"importer data of at most {limit} bytes", f"{len(text)} bytes")
    return parse_json(text, source)


_encode_string = json.encoder.encode_basestring  # the C encoder: non-ASCII text kept as it is
_SCALARS = (int, float, bool, str, type(None))


def _scalar(value: Any) -> str:
    """One JSON scalar, exactly as ``json.dumps`` writes it (but without its per-call set-up)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        if value != value or value in (math.inf, -math.inf):
            raise ValueError(f"{value!r} is not a number JSON allows")
        return float.__repr__(value)
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _is_flat(value: Any) -> bool:
    return len(value) <= 16 and all(isinstance(v, _SCALARS) for v in value)


def _dump(value: Any, indent: int, out: list[str]) -> None:
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        pad = "  " * indent
        inner = pad + "  "
        out.append("{\n")
        last = len(value) - 1
        for i, (key, item) in enumerate(value.items()):
            out.append(f"{inner}{_encode_string(key)}: ")
            if isinstance(item, _SCALARS):
                out.append(_scalar(item))
            else:
                _dump(item, indent + 1, out)
            out.append(",\n" if i < last else "\n")
        out.append(pad + "}")
    elif isinstance(value, (list, tuple)):
        if _is_flat(value):
            out.append("[" + ", ".join(map(_scalar, value)) + "]")
            return
        pad = "  " * indent
        out.append("[\n")
        last = len(value) - 1
        for i, item in enumerate(value):
            out.append(pad + "  ")
            _dump(item, indent + 1, out)
            out.append(",\n" if i < last else "\n")
        out.append(pad + "]")
    else:
        out.append(_scalar(value))


def dumps_canonical(data: Any) -> str:
    """The one text form Storm writes: 2-space indent, key order as given, flat lists inline."""
    out: list[str] = []
    _dump(data, 0, out)
    return "".join(out) + "\n"


def atomic_write(path: Path | str, text: str) -> None:
    """Write text so that readers see the old file or the new one, never half of either."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
