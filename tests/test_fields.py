"""Field declarations: defaults, validation with clear expectations, JSON data."""
from __future__ import annotations

import pytest

from engine.core.component import Component, apply_data
from engine.core.errors import FieldError
from engine.core.fields import AssetRef, Bool, Color, EntityRef, Enum, Field, Float, Int, Str, Vec3, f32


class Lamp(Component):
    brightness = Field(Float(0, 10), 1.0, doc="how bright")
    mode = Field(Enum(("on", "off", "blink")), "on")
    tint = Field(Color(), (1, 1, 1, 1))
    offset = Field(Vec3(), (0, 0, 0))
    model = Field(AssetRef("model"), "primitive:sphere")
    target = Field(EntityRef(), 0)
    label = Field(Str(20), "")
    count = Field(Int(0, 5), 1)
    enabled = Field(Bool(), True)


def test_fields_are_declared_once_in_order() -> None:
    assert list(Lamp.fields) == ["brightness", "mode", "tint", "offset", "model", "target", "label", "count", "enabled"]
    assert Lamp.fields["brightness"].doc == "how bright"
    lamp = Lamp()
    assert lamp.brightness == 1.0 and lamp.mode == "on" and lamp.tint == (1.0, 1.0, 1.0, 1.0)


@pytest.mark.parametrize("name,value,expected", [
    ("brightness", 11, "a number in [0, 10]"),
    ("brightness", "bright", "a number in [0, 10]"),
    ("brightness", float("nan"), "a number in [0, 10]"),
    ("mode", "dim", "one of 'on', 'off', 'blink'"),
    ("tint", [1, 1, 1], "a colour: a list of 4 numbers (red, green, blue, alpha), each in [0, 1]"),
    ("model", "crate.glb", "a model asset id like 'pack:path'"),
    ("model", "base:../etc/passwd", "a model asset id like 'pack:path'"),
    ("target", -1, "an entity id (a whole number, 0 for none)"),
    ("label", "x" * 21, "a string of at most 20 characters"),
    ("count", 2.5, "a whole number in [0, 5]"),
    ("enabled", 1, "true or false"),
])
def test_bad_values_say_what_was_expected(name: str, value: object, expected: str) -> None:
    with pytest.raises(FieldError) as info:
        Lamp().set_field(name, value)
    assert info.value.expected == expected


def test_to_data_leaves_out_defaults_and_apply_data_reports_each_bad_field() -> None:
    lamp = Lamp(brightness=2.5, mode="blink")
    assert lamp.to_data() == {"brightness": 2.5, "mode": "blink"}
    fresh = Lamp()
    problems = apply_data(fresh, {"brightness": 3, "colour": 1, "count": 9})
    assert [name for name, _ in problems] == ["colour", "count"]
    assert fresh.brightness == 3.0


def test_f32_gives_the_shortest_text_of_a_32_bit_float() -> None:
    assert f32(0.1) == 0.1
    assert f32(0.30000001192092896) == 0.3
    assert f32(-0.0) == 0.0
