"""Structured patches of JSON data: a pack changes the parts of another pack's file it cares
about (one light's colour, one binding) instead of replacing the whole file, so two mods can
change the same prefab and a base update still reaches both.

A patch file::

    {
      "storm_patch": 1,
      "ops": [
        {"op": "test", "path": "/entities/0/key", "value": "pillar"},
        {"op": "replace", "path": "/entities/1/components/Light/color", "value": [1.0, 0.4, 0.2]},
        {"op": "add", "path": "/entities/-", "value": {"key": "moss", "parent": "pillar"}},
        {"op": "remove", "path": "/entities/0/components/Collider"},
        {"op": "merge", "path": "/entities/0/components/MeshRenderer", "value": {"tint": [0, 1, 0, 1]}}
      ]
    }

Paths are JSON pointers (RFC 6901: ``/a/0/b``, ``~1`` for ``/`` and ``~0`` for ``~``; ``""`` is
the whole document). ``add``, ``replace``, ``remove`` and ``test`` work as in JSON Patch (RFC
6902; ``-`` appends to a list); ``merge`` merges an object into the object at the path (RFC 7386:
a ``null`` member removes that key). A patch file applies whole or not at all: a failing ``test``
skips it (that is how a patch says "only if the file still looks like this"); any other op that
cannot apply is an error naming the patch file, the op's index and its path.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from engine.core.errors import DataError

PATCH_KEY = "storm_patch"
PATCH_VERSION = 1
MAX_OPS = 10_000
OPS = ("add", "replace", "remove", "merge", "test")
_INDEX = re.compile(r"^(0|[1-9][0-9]{0,8})$")


@dataclass(frozen=True)
class PatchOp:
    """One checked operation of a patch file."""

    index: int
    op: str
    path: str
    tokens: tuple[str, ...]
    value: Any = None

    @property
    def where(self) -> str:
        """How messages name the op: ``ops[2] (replace /entities/1/name)``."""
        return f"ops[{self.index}] ({self.op} {self.path or '(whole file)'})"


class PatchSkipped(Exception):
    """A ``test`` op did not hold: the patch file is left out (not an error)."""


def parse_pointer(pointer: Any) -> tuple[str, ...]:
    """The reference tokens of a JSON pointer; raises ValueError saying what is wrong."""
    if not isinstance(pointer, str):
        raise ValueError("a JSON pointer string like '/entities/0/name'")
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise ValueError("a JSON pointer that starts with '/' (or \"\" for the whole file)")
    tokens = []
    for raw in pointer[1:].split("/"):
        if re.search(r"~(?![01])", raw):
            raise ValueError("a JSON pointer where '~' is followed by 0 or 1 (~0 is '~', ~1 is '/')")
        tokens.append(raw.replace("~1", "/").replace("~0", "~"))
    return tuple(tokens)


def parse_patch(data: Any, source: str) -> list[PatchOp]:
    """Check a patch file's data; raises DataError naming the file, the op index and the key."""
    if not isinstance(data, dict) or data.get(PATCH_KEY) != PATCH_VERSION or set(data) != {PATCH_KEY, "ops"}:
        raise DataError(source, "", f"a patch object {{\"{PATCH_KEY}\": {PATCH_VERSION}, \"ops\": [...]}}",
                        sorted(data) if isinstance(data, dict) else data)
    ops = data["ops"]
    if not isinstance(ops, list) or len(ops) > MAX_OPS:
        raise DataError(source, "ops", f"a list of at most {MAX_OPS} operations", ops)
    parsed = []
    for index, item in enumerate(ops):
        where = f"ops[{index}]"
        if not isinstance(item, dict) or item.get("op") not in OPS:
            raise DataError(source, f"{where}.op", f"one of the ops {', '.join(OPS)}",
                            item.get("op") if isinstance(item, dict) else item)
        op = item["op"]
        wanted = {"op", "path"} if op == "remove" else {"op", "path", "value"}
        if set(item) != wanted:
            raise DataError(source, where, f"the keys {', '.join(sorted(wanted))} for a {op} op", sorted(item))
        try:
            tokens = parse_pointer(item["path"])
        except ValueError as exc:
            raise DataError(source, f"{where}.path", str(exc), item["path"]) from None
        if op == "merge" and not isinstance(item["value"], dict):
            raise DataError(source, f"{where}.value", "an object to merge (use replace for other values)",
                            item["value"])
        if op == "remove" and not tokens:
            raise DataError(source, f"{where}.path", "a path inside the file (remove cannot remove the whole file)")
        parsed.append(PatchOp(index, op, item["path"], tokens, item.get("value")))
    return parsed


def apply_patch(document: Any, ops: list[PatchOp], source: str, target: str) -> Any:
    """The document with every op applied, in order (the input is not changed). Raises
    PatchSkipped when a test op fails, DataError (naming ``source``, op and path) when an op
    cannot apply to ``target``."""
    result = copy.deepcopy(document)
    for op in ops:
        try:
            result = _apply(result, op)
        except _Miss as miss:
            raise DataError(source, op.where, f"{miss} in {target}") from None
    return result


class _Miss(Exception):
    pass


def _apply(document: Any, op: PatchOp) -> Any:
    if not op.tokens:
        if op.op == "test":
            _check_test(document, op)
            return document
        if op.op == "merge":
            if not isinstance(document, dict):
                raise _Miss("an object at the path to merge into")
            return _merge(document, op.value)
        return copy.deepcopy(op.value)
    parent = _walk(document, op.tokens[:-1])
    last = op.tokens[-1]
    if isinstance(parent, dict):
        exists = last in parent
        if op.op == "add":
            parent[last] = copy.deepcopy(op.value)
            return document
        if not exists:
            keys = ", ".join(sorted(parent)[:12]) or "none"
            raise _Miss(f"an existing member {last!r} (the object has: {keys})")
        if op.op == "replace":
            parent[last] = copy.deepcopy(op.value)
        elif op.op == "remove":
            del parent[last]
        elif op.op == "merge":
            if not isinstance(parent[last], dict):
                raise _Miss("an object at the path to merge into")
            parent[last] = _merge(parent[last], op.value)
        else:
            _check_test(parent[last], op)
        return document
    if isinstance(parent, list):
        if op.op == "add" and last == "-":
            parent.append(copy.deepcopy(op.value))
            return document
        index = _list_index(parent, last, allow_end=op.op == "add")
        if op.op == "add":
            parent.insert(index, copy.deepcopy(op.value))
        elif op.op == "replace":
            parent[index] = copy.deepcopy(op.value)
        elif op.op == "remove":
            del parent[index]
        elif op.op == "merge":
            if not isinstance(parent[index], dict):
                raise _Miss("an object at the path to merge into")
            parent[index] = _merge(parent[index], op.value)
        else:
            _check_test(parent[index], op)
        return document
    raise _Miss(f"an object or a list to hold {last!r} (found {_kind(parent)})")


def _walk(document: Any, tokens: tuple[str, ...]) -> Any:
    node = document
    for depth, token in enumerate(tokens):
        here = "/" + "/".join(tokens[:depth]) if depth else "the top"
        if isinstance(node, dict):
            if token not in node:
                raise _Miss(f"an existing member {token!r} at {here}")
            node = node[token]
        elif isinstance(node, list):
            node = node[_list_index(node, token, allow_end=False)]
        else:
            raise _Miss(f"an object or a list at {here} (found {_kind(node)})")
    return node


def _list_index(items: list[Any], token: str, allow_end: bool) -> int:
    top = len(items) if allow_end else len(items) - 1
    if not _INDEX.match(token) or int(token) > top:
        span = f"0..{top}" if top >= 0 else "none (the list is empty)"
        raise _Miss(f"a list index {span}{' or -' if allow_end else ''}, got {token!r}")
    return int(token)


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            merged[key] = _merge(merged[key] if isinstance(merged.get(key), dict) else {}, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _check_test(found: Any, op: PatchOp) -> None:
    if not same_json(found, op.value):
        raise PatchSkipped(f"{op.where}: the value is not the one the test expects")


def same_json(a: Any, b: Any) -> bool:
    """Equality of JSON values, where true is not 1 and 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number")
