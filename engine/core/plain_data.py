"""Plain data: the values a snapshot copies exactly, and the strict comparison restore uses.

Plain data is None, bools, numbers, strings and bytes, Panda3D vector, point and quaternion
values, and tuples, lists, sets, frozensets and dicts of those. Anything else (a NodePath, a
function, a class, a live Python object) is not plain: snapshots do not copy it.

Internals favour speed: immutable values come back as the same object (a tuple of floats is
not copied), so a restore can tell an unchanged field by identity before comparing values.
"""
from __future__ import annotations

import copy
import math
from typing import Any

from panda3d.core import (
    LPoint2d,
    LPoint2f,
    LPoint3d,
    LPoint3f,
    LQuaterniond,
    LQuaternionf,
    LVecBase2d,
    LVecBase2f,
    LVecBase3d,
    LVecBase3f,
    LVecBase4d,
    LVecBase4f,
    LVector2d,
    LVector2f,
    LVector3d,
    LVector3f,
)

ATOMS = frozenset((type(None), bool, int, float, str, bytes))
PANDA_VALUES = frozenset((LPoint2f, LPoint3f, LVector2f, LVector3f, LVecBase2f, LVecBase3f, LVecBase4f,
                          LQuaternionf, LPoint2d, LPoint3d, LVector2d, LVector3d, LVecBase2d, LVecBase3d,
                          LVecBase4d, LQuaterniond))
MAX_DEPTH = 32
NOT_PLAIN: Any = type("NotPlain", (), {"__repr__": lambda self: "NOT_PLAIN"})()
_SEQUENCES = (tuple, list, set, frozenset)
_all_atoms = ATOMS.issuperset


def copy_plain(value: Any, depth: int = 0) -> Any:
    """An independent copy of plain data (immutable values come back as themselves), or
    ``NOT_PLAIN`` when ``value`` is or contains anything else (or nests deeper than MAX_DEPTH)."""
    kind = type(value)
    if kind in ATOMS:
        return value
    if kind in PANDA_VALUES:
        return kind(value)
    if depth >= MAX_DEPTH:
        return NOT_PLAIN
    if kind in _SEQUENCES:
        items = []
        same = kind is tuple or kind is frozenset
        for item in value:
            copied = copy_plain(item, depth + 1)
            if copied is NOT_PLAIN:
                return NOT_PLAIN
            same = same and copied is item
            items.append(copied)
        return value if same else kind(items)
    if kind is dict:
        out = {}
        for key, item in value.items():
            copied_key, copied = copy_plain(key, depth + 1), copy_plain(item, depth + 1)
            if copied_key is NOT_PLAIN or copied is NOT_PLAIN:
                return NOT_PLAIN
            out[copied_key] = copied
        return out
    return NOT_PLAIN


def detached(value: Any) -> Any:
    """A copy of a field value that shares nothing mutable with ``value``: plain data is copied as
    above, anything else deep-copied; an object that cannot be copied is kept as it is."""
    copied = copy_plain(value)
    if copied is not NOT_PLAIN:
        return copied
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - a live object (a NodePath, a handle): nothing to copy it with
        return value


def detached_values(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """``detached`` for each of a component's field values; the tuple itself when every value is an
    atom or a tuple of atoms (the usual case: checked without copying anything)."""
    if _all_atoms(map(type, values)):
        return values
    for value in values:
        kind = type(value)
        if kind in ATOMS or (kind is tuple and _all_atoms(map(type, value))):
            continue
        return tuple(map(detached, values))
    return values


def same_value(a: Any, b: Any) -> bool:
    """Exactly equal: same type, same value, same sign of zero, NaN equal to NaN; containers
    element by element (dicts also in the same key order)."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is float:
        if a != a:
            return b != b
        return a == b and (a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b))
    if kind is tuple or kind is list:
        return len(a) == len(b) and all(map(same_value, a, b))
    if kind is dict:
        return list(a) == list(b) and all(same_value(a[key], b[key]) for key in a)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an object whose comparison fails is not the same
        return False
