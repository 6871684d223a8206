"""Bindings: how physical inputs (a raw frame of keys, buttons and axes) turn into one action's value.

There is one resolution path for every source that delivers raw input (Panda3D, scripted tests):
a ``RawFrame`` goes through the bindings of each action. Sources that deliver action values
directly (replays, network, XR) skip this module.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Union

from engine.core.errors import DataError
from engine.input.input_names import AXIS, BUTTON, did_you_mean, expected_input, input_kind

BUTTON_KIND = "button"
AXIS_KIND = "axis"
VECTOR_KIND = "axis2"
KINDS = (BUTTON_KIND, AXIS_KIND, VECTOR_KIND)
MAX_SCALE = 1000.0


@dataclass(frozen=True)
class RawFrame:
    """Physical input for one tick: buttons held, buttons that went down since the last sample
    (a tap shorter than a tick still counts once), and axis values (mouse deltas, stick positions)."""

    down: frozenset[str] = frozenset()
    tapped: frozenset[str] = frozenset()
    axes: Mapping[str, float] = field(default_factory=dict)

    def button(self, name: str) -> bool:
        return name in self.down or name in self.tapped

    def axis(self, name: str) -> float:
        value = self.axes.get(name, 0.0)
        return value if math.isfinite(value) else 0.0


def _dead(value: float, deadzone: float) -> float:
    """Zero inside the dead zone, then rescaled so the output still reaches 1 at full travel."""
    size = abs(value)
    if size <= deadzone:
        return 0.0
    return math.copysign((size - deadzone) / (1.0 - deadzone), value)


@dataclass(frozen=True)
class ButtonBinding:
    """A button action's binding: a button input, or an axis input past ``threshold``
    (held when the value reaches it; a negative threshold means at or below it)."""

    input: str
    threshold: float = 0.5
    is_axis: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_axis", input_kind(self.input) == AXIS)  # looked up once, read every tick

    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def held(self, raw: RawFrame) -> bool:
        if self.is_axis:
            value = raw.axis(self.input)
            return value >= self.threshold if self.threshold > 0 else value <= self.threshold
        return raw.button(self.input)

    def replaced(self, old: str, new: str) -> "ButtonBinding":
        return replace(self, input=new) if self.input == old else self


@dataclass(frozen=True)
class AxisInputBinding:
    """An axis action's binding to one axis input (or a button, read as 0 or 1), times ``scale``."""

    input: str
    scale: float = 1.0
    deadzone: float = 0.0
    is_axis: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_axis", input_kind(self.input) == AXIS)

    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def value(self, raw: RawFrame) -> float:
        if not self.is_axis:
            return self.scale if raw.button(self.input) else 0.0
        return _dead(raw.axis(self.input), self.deadzone) * self.scale

    def replaced(self, old: str, new: str) -> "AxisInputBinding":
        return replace(self, input=new) if self.input == old else self


@dataclass(frozen=True)
class CompositeBinding:
    """An axis made of two buttons: ``negative`` gives -1, ``positive`` +1, both or neither 0."""

    negative: str | None = None
    positive: str | None = None

    def inputs(self) -> tuple[str, ...]:
        return tuple(name for name in (self.negative, self.positive) if name is not None)

    def value(self, raw: RawFrame) -> float:
        low = self.negative is not None and raw.button(self.negative)
        high = self.positive is not None and raw.button(self.positive)
        return float(high) - float(low)

    def replaced(self, old: str, new: str) -> "CompositeBinding":
        return CompositeBinding(new if self.negative == old else self.negative,
                                new if self.positive == old else self.positive)


AxisBinding = Union[AxisInputBinding, CompositeBinding]


@dataclass(frozen=True)
class VectorBinding:
    """A two-axis action's binding: an axis binding for x and one for y, with a round dead zone."""

    x: AxisBinding | None = None
    y: AxisBinding | None = None
    deadzone: float = 0.0

    def inputs(self) -> tuple[str, ...]:
        return (self.x.inputs() if self.x else ()) + (self.y.inputs() if self.y else ())

    def value(self, raw: RawFrame) -> tuple[float, float]:
        x = self.x.value(raw) if self.x else 0.0
        y = self.y.value(raw) if self.y else 0.0
        if self.deadzone > 0.0:
            length = math.hypot(x, y)
            if length <= self.deadzone:
                return 0.0, 0.0
            factor = _dead(length, self.deadzone) / length
            x, y = x * factor, y * factor
        return x, y

    def replaced(self, old: str, new: str) -> "VectorBinding":
        return VectorBinding(self.x.replaced(old, new) if self.x else None,
                             self.y.replaced(old, new) if self.y else None, self.deadzone)


Binding = Union[ButtonBinding, AxisInputBinding, CompositeBinding, VectorBinding]


# -- parsing ----------------------------------------------------------------------------------
def check_input(name: Any, wanted: str | None, source: str, path: str) -> str:
    """A known input name of the wanted kind (None: any kind); raises DataError naming it."""
    if not isinstance(name, str):
        raise DataError(source, path, expected_input(wanted), name)
    kind = input_kind(name)
    if kind is None:
        raise DataError(source, path, expected_input(wanted) + did_you_mean(name), name)
    if wanted is not None and kind != wanted:
        article = "an" if kind == AXIS else "a"
        raise DataError(source, path, f"{expected_input(wanted)} ({name!r} is {article} {kind})", name)
    return name


def _expect_object(data: Any, keys: tuple[str, ...], source: str, path: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise DataError(source, path, f"an input name or an object with keys {', '.join(keys)}", data)
    for key in data:
        if key not in keys:
            raise DataError(source, f"{path}.{key}", f"one of the keys {', '.join(keys)}", key)
    return data


def _number(data: dict[str, Any], key: str, default: float, low: float, high: float, source: str, path: str) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise DataError(source, f"{path}.{key}", f"a number from {low} to {high}", value)
    return float(value)


def parse_button(data: Any, source: str, path: str) -> ButtonBinding:
    if isinstance(data, str):
        return ButtonBinding(check_input(data, None, source, path))
    obj = _expect_object(data, ("input", "threshold"), source, path)
    name = check_input(obj.get("input"), None, source, f"{path}.input")
    if "threshold" in obj and input_kind(name) != AXIS:
        raise DataError(source, f"{path}.threshold", "a threshold only on an axis input", name)
    threshold = _number(obj, "threshold", 0.5, -1.0, 1.0, source, path)
    if threshold == 0.0:
        raise DataError(source, f"{path}.threshold", "a threshold other than 0 (from -1 to 1)", threshold)
    return ButtonBinding(name, threshold)


def parse_axis(data: Any, source: str, path: str) -> AxisBinding:
    if isinstance(data, str):
        return AxisInputBinding(check_input(data, None, source, path))
    if isinstance(data, dict) and ("negative" in data or "positive" in data):
        obj = _expect_object(data, ("negative", "positive"), source, path)
        negative = check_input(obj["negative"], BUTTON, source, f"{path}.negative") if "negative" in obj else None
        positive = check_input(obj["positive"], BUTTON, source, f"{path}.positive") if "positive" in obj else None
        return CompositeBinding(negative, positive)
    obj = _expect_object(data, ("input", "scale", "deadzone"), source, path)
    name = check_input(obj.get("input"), None, source, f"{path}.input")
    return AxisInputBinding(name, _number(obj, "scale", 1.0, -MAX_SCALE, MAX_SCALE, source, path),
                            _number(obj, "deadzone", 0.0, 0.0, 0.95, source, path))


def parse_vector(data: Any, source: str, path: str) -> VectorBinding:
    obj = _expect_object(data, ("x", "y", "deadzone"), source, path)
    if "x" not in obj and "y" not in obj:
        raise DataError(source, path, "an object with an \"x\" or a \"y\" axis binding (or both)", data)
    x = parse_axis(obj["x"], source, f"{path}.x") if "x" in obj else None
    y = parse_axis(obj["y"], source, f"{path}.y") if "y" in obj else None
    return VectorBinding(x, y, _number(obj, "deadzone", 0.0, 0.0, 0.95, source, path))


PARSERS = {BUTTON_KIND: parse_button, AXIS_KIND: parse_axis, VECTOR_KIND: parse_vector}


def binding_to_data(binding: Binding | None) -> Any:
    """The binding as file data, in the shortest form that reads back the same."""
    if isinstance(binding, ButtonBinding):
        return binding.input if binding.threshold == 0.5 else {"input": binding.input, "threshold": binding.threshold}
    if isinstance(binding, CompositeBinding):
        return {k: v for k, v in (("negative", binding.negative), ("positive", binding.positive)) if v is not None}
    if isinstance(binding, AxisInputBinding):
        if binding.scale == 1.0 and binding.deadzone == 0.0:
            return binding.input
        out: dict[str, Any] = {"input": binding.input}
        if binding.scale != 1.0:
            out["scale"] = binding.scale
        if binding.deadzone != 0.0:
            out["deadzone"] = binding.deadzone
        return out
    assert isinstance(binding, VectorBinding)
    out = {axis: binding_to_data(b) for axis, b in (("x", binding.x), ("y", binding.y)) if b is not None}
    if binding.deadzone != 0.0:
        out["deadzone"] = binding.deadzone
    return out
