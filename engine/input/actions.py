"""Action maps: the actions a game declares (jump, move, look...), each with a kind and bindings,
read from JSON text files; the bound-twice check; rebinding one input of an action.

A map file looks like::

    {"storm_actions": 1,
     "actions": {"jump": {"kind": "button", "bindings": ["space", "gamepad:face_a"]},
                 "move": {"kind": "axis2", "bindings": [{"x": {"negative": "a", "positive": "d"},
                                                         "y": {"negative": "s", "positive": "w"}}]}}}

Malformed files raise one DataError naming the file, the path inside it and what was expected.
An input bound twice (to two actions, or twice to one) is not fatal: the map loads, the first
binding wins, and a clear error naming the file, the input and both actions is logged.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from engine.core.errors import DataError, StormError
from engine.input.bindings import (
    AXIS_KIND,
    BUTTON_KIND,
    KINDS,
    PARSERS,
    VECTOR_KIND,
    Binding,
    CompositeBinding,
    RawFrame,
    VectorBinding,
    binding_to_data,
    check_input,
)
from engine.input.input_names import BUTTON
from engine.packs.json_text import read_json

log = logging.getLogger("storm.input")

VERSION_KEY = "storm_actions"
CURRENT_VERSION = 1
FILE_KEYS = (VERSION_KEY, "actions")
ACTION_KEYS = ("kind", "doc", "bindings")
ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_ACTIONS = 1024
MAX_BINDINGS = 64


class BindingError(StormError):
    """A rebinding that cannot be done; the message names the map, the action and the input."""


@dataclass
class ActionDef:
    """One declared action: its name, its kind (button, axis or axis2), a description, its bindings."""

    name: str
    kind: str
    doc: str = ""
    bindings: list[Binding] = field(default_factory=list)


@dataclass(frozen=True)
class ActionFrame:
    """Action values for one tick: the buttons held, axis values and 2D vectors. Neutral values
    (released, 0, (0, 0)) may be left out. Replays, network peers and XR controllers hand these
    to the input system directly; raw sources are resolved into them by an ActionMap."""

    held: frozenset[str] = frozenset()
    axes: Mapping[str, float] = field(default_factory=dict)
    vectors: Mapping[str, tuple[float, float]] = field(default_factory=dict)


NEUTRAL = ActionFrame()


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def clamp_axis(value: float) -> float:
    return -1.0 if value < -1.0 else 1.0 if value > 1.0 else value


def clamp_vector(x: float, y: float) -> tuple[float, float]:
    length = math.hypot(x, y)
    return (x / length, y / length) if length > 1.0 else (x, y)


class ActionMap:
    """The actions of one map file and their bindings; ``source`` (file path or asset id) names it
    in every message and keys the player's saved rebindings."""

    def __init__(self, source: str, actions: Iterable[ActionDef] = ()) -> None:
        self.source = source
        self.actions: dict[str, ActionDef] = {a.name: a for a in actions}
        self.problems: list[str] = []
        self._owners: dict[str, str] = {}
        self._drop_bound_twice()

    def _drop_bound_twice(self) -> None:
        for action in self.actions.values():
            kept: list[Binding] = []
            for index, binding in enumerate(action.bindings):
                seen: list[str] = []
                clash = None
                for name in binding.inputs():
                    if name in seen or name in self._owners:
                        clash = name
                        break
                    seen.append(name)
                if clash is None:
                    kept.append(binding)
                    self._owners.update((name, action.name) for name in seen)
                    continue
                first = self._owners.get(clash, action.name)
                where = f"actions.{action.name}.bindings[{index}]"
                message = (f"{self.source}: input {clash!r} is bound twice, to action {first!r} and to action "
                           f"{action.name!r} ({where}); the first binding wins and {where} is ignored")
                self.problems.append(message)
                log.error("%s", message)
            action.bindings = kept

    # -- queries --------------------------------------------------------------------------------
    def kind(self, action: str) -> str | None:
        found = self.actions.get(action)
        return found.kind if found else None

    def kinds(self) -> dict[str, str]:
        """``action name -> kind`` in declaration order."""
        return {name: a.kind for name, a in self.actions.items()}

    def owner(self, input_name: str) -> str | None:
        """The action an input is bound to, or None."""
        return self._owners.get(input_name)

    def inputs(self) -> list[str]:
        """Every physical input the map binds (what a raw source needs to sample)."""
        return list(self._owners)

    # -- resolution -----------------------------------------------------------------------------
    def resolve(self, raw: RawFrame) -> ActionFrame:
        """Action values from one raw frame: any held binding holds a button; for axes and vectors
        the binding with the largest magnitude wins (the first on a tie); results are clamped."""
        if not (raw.down or raw.tapped or raw.axes):
            return NEUTRAL
        held: set[str] = set()
        axes: dict[str, float] = {}
        vectors: dict[str, tuple[float, float]] = {}
        for name, action in self.actions.items():
            if action.kind == BUTTON_KIND:
                if any(b.held(raw) for b in action.bindings):  # type: ignore[union-attr]
                    held.add(name)
            elif action.kind == AXIS_KIND:
                best = 0.0
                for binding in action.bindings:
                    value = binding.value(raw)  # type: ignore[union-attr]
                    if abs(value) > abs(best):
                        best = value
                if best:
                    axes[name] = clamp_axis(best)
            else:
                best_xy, best_len = (0.0, 0.0), 0.0
                for binding in action.bindings:
                    xy = binding.value(raw)  # type: ignore[union-attr]
                    length = math.hypot(*xy)
                    if length > best_len:
                        best_xy, best_len = xy, length
                if best_len:
                    vectors[name] = clamp_vector(*best_xy)
        return ActionFrame(frozenset(held), axes, vectors)

    def sanitize(self, frame: Any) -> tuple[ActionFrame, list[tuple[str, str]]]:
        """Check action values handed over directly (replay, network, XR): unknown actions, wrong
        kinds and non-numbers are dropped, values clamped. Returns the clean frame and, for each
        dropped value, ``(what, message)`` where ``what`` names the action and reader only."""
        if not isinstance(frame, ActionFrame):
            kind = type(frame).__name__
            return NEUTRAL, [(kind, f"a {kind}, expected an ActionFrame or a RawFrame")]
        problems: list[tuple[str, str]] = []
        held: set[str] = set()
        for name in frame.held:
            if self.kind(name) == BUTTON_KIND:
                held.add(name)
            else:
                problems.append((f"held {name!r}", f"held {name!r}, expected {self._expected(BUTTON_KIND)}"))
        axes: dict[str, float] = {}
        for name, value in frame.axes.items():
            number = _finite(value)
            if self.kind(name) != AXIS_KIND or number is None:
                problems.append((f"axis {name!r}", f"axis {name!r} = {value!r}, expected "
                                                    f"{self._expected(AXIS_KIND)} with a finite number"))
            elif number:
                axes[name] = clamp_axis(number)
        vectors: dict[str, tuple[float, float]] = {}
        for name, value in frame.vectors.items():
            pair = tuple(_finite(v) for v in value) if isinstance(value, (tuple, list)) and len(value) == 2 else None
            if self.kind(name) != VECTOR_KIND or pair is None or None in pair:
                problems.append((f"vector {name!r}", f"vector {name!r} = {value!r}, expected "
                                                      f"{self._expected(VECTOR_KIND)} with two finite numbers"))
            elif pair != (0.0, 0.0):
                vectors[name] = clamp_vector(*pair)  # type: ignore[misc]
        return ActionFrame(frozenset(held), axes, vectors), problems

    def _expected(self, kind: str) -> str:
        names = [n for n, a in self.actions.items() if a.kind == kind]
        return f"one of the {kind} actions of {self.source} ({', '.join(names) or 'none'})"

    # -- rebinding ------------------------------------------------------------------------------
    def rebind(self, action: str, old: str, new: str) -> None:
        """Replace input ``old`` with ``new`` wherever ``action``'s bindings use it; raises
        BindingError (map unchanged) when the action or ``old`` is not there or ``new`` is taken."""
        found = self.actions.get(action)
        if found is None:
            raise BindingError(f"{self.source}: no action {action!r} to rebind; actions are "
                               f"{', '.join(self.actions) or 'none'}")
        if self._owners.get(old) != action:
            raise BindingError(f"{self.source}: action {action!r} has no binding to input {old!r}; it is bound to "
                               f"{', '.join(self.bound_inputs(action)) or 'nothing'}")
        if new == old:
            return
        in_composite = any(old in b.inputs() for b in _composites(found.bindings))
        try:
            check_input(new, BUTTON if in_composite else None, self.source, f"actions.{action}.bindings")
        except DataError as exc:
            raise BindingError(f"cannot bind {new!r} to action {action!r}: {exc}") from None
        taken = self._owners.get(new)
        if taken is not None:
            raise BindingError(f"{self.source}: input {new!r} is already bound to action {taken!r}; "
                               f"binding it to {action!r} too would bind it twice; rebind {taken!r} first")
        found.bindings = [b.replaced(old, new) for b in found.bindings]
        del self._owners[old]
        self._owners[new] = action

    def bound_inputs(self, action: str) -> list[str]:
        return [name for name, owner in self._owners.items() if owner == action]

    def to_data(self) -> dict[str, Any]:
        """The map as file data (current bindings, in declaration order)."""
        actions: dict[str, Any] = {}
        for name, action in self.actions.items():
            block: dict[str, Any] = {"kind": action.kind}
            if action.doc:
                block["doc"] = action.doc
            block["bindings"] = [binding_to_data(b) for b in action.bindings]
            actions[name] = block
        return {VERSION_KEY: CURRENT_VERSION, "actions": actions}


def _composites(bindings: list[Binding]) -> Iterable[CompositeBinding]:
    for binding in bindings:
        if isinstance(binding, CompositeBinding):
            yield binding
        elif isinstance(binding, VectorBinding):
            yield from (b for b in (binding.x, binding.y) if isinstance(b, CompositeBinding))


def parse_action_map(data: Any, source: str) -> ActionMap:
    """Check map file data and build the map; raises DataError naming the path and what was expected."""
    if not isinstance(data, dict):
        raise DataError(source, "", f"a JSON object with \"{VERSION_KEY}\" and \"actions\"", type(data).__name__)
    for key in data:
        if key not in FILE_KEYS:
            raise DataError(source, key, f"one of the keys {', '.join(FILE_KEYS)}", key)
    version = data.get(VERSION_KEY)
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= CURRENT_VERSION:
        raise DataError(source, VERSION_KEY, f"an action map version from 1 to {CURRENT_VERSION}", version)
    actions = data.get("actions")
    if not isinstance(actions, dict) or len(actions) > MAX_ACTIONS:
        raise DataError(source, "actions", f"an object of up to {MAX_ACTIONS} actions by name", actions)
    return ActionMap(source, [_parse_action(name, block, source) for name, block in actions.items()])


def _parse_action(name: str, block: Any, source: str) -> ActionDef:
    path = f"actions.{name}"
    if not ACTION_NAME.match(name):
        raise DataError(source, path, "an action name of lower-case letters, digits and _ (like move_x)", name)
    if not isinstance(block, dict):
        raise DataError(source, path, "an object with \"kind\" and \"bindings\"", block)
    for key in block:
        if key not in ACTION_KEYS:
            raise DataError(source, f"{path}.{key}", f"one of the keys {', '.join(ACTION_KEYS)}", key)
    kind = block.get("kind")
    if kind not in KINDS:
        raise DataError(source, f"{path}.kind", "one of the kinds button, axis, axis2", kind)
    doc = block.get("doc", "")
    if not isinstance(doc, str):
        raise DataError(source, f"{path}.doc", "a string", doc)
    bindings = block.get("bindings", [])
    if not isinstance(bindings, list) or len(bindings) > MAX_BINDINGS:
        raise DataError(source, f"{path}.bindings", f"a list of up to {MAX_BINDINGS} bindings", bindings)
    parse = PARSERS[kind]
    return ActionDef(name, kind, doc, [parse(b, source, f"{path}.bindings[{i}]") for i, b in enumerate(bindings)])


def load_action_map(path: Path | str, source: str | None = None) -> ActionMap:
    """Read a map file; ``source`` (an asset id, say) replaces the path in messages. Raises DataError."""
    name = source or str(path)
    try:
        data = read_json(path)
    except DataError as exc:
        if source is None:
            raise
        raise DataError(name, exc.path, exc.expected, exc.got) from None
    return parse_action_map(data, name)
