"""One declaration per field serves files, the inspector, the network and a grammar: runtime
state stays out of files, inspector hints and replication rules are there, and the JSON schema
accepts exactly what the declaration accepts."""
from __future__ import annotations

import json
import random
from pathlib import Path

import jsonschema
import pytest

from engine.core.component import Component
from engine.core.fields import (
    AssetRef,
    Color,
    ColorType,
    ComponentName,
    EntityRef,
    Field,
    Flags,
    Float,
    Int,
    Replication,
    Vec3,
)
from engine.core.schema import arguments_schema, component_schema
from engine.data.world_file import read_world, save_world
from engine.host.builtins import BUILTIN_COMPONENTS
from engine.host.runtime import create_runtime
from engine.physics.components import CharacterController, Collider
from tests.conftest import DEMO_WORLD


def test_runtime_state_is_not_saved(tmp_path: Path) -> None:
    runtime = create_runtime()
    world = read_world(DEMO_WORLD, runtime)
    for _ in range(30):  # the player falls onto the ground: the controller writes its state
        world.tick()
    controller = world.get(30, CharacterController)
    controller.jump, controller.move = True, (1.0, 0.0, 0.0)
    assert controller.grounded
    data = controller.to_data()
    assert not {"jump", "grounded", "vertical_speed", "move", "run"} & set(data)
    path = tmp_path / "w.world.json"
    save_world(world, path)
    player = next(b for b in json.loads(path.read_text(encoding="utf-8"))["entities"] if b["id"] == 30)
    assert "grounded" not in player["components"]["CharacterController"]
    assert "vertical_speed" in controller.to_data(only_changed=False, saved_only=False)  # undo records keep it


def test_declarations_carry_inspector_and_network_hints() -> None:
    mass = Field(Float(0, 10), 1.0, doc="how heavy", unit="kg", group="body", step=0.5)
    assert (mass.unit, mass.group, mass.step, mass.replicate) == ("kg", "body", 0.5, None)
    assert Field(Float(), 0.0, replicate=True).replicate == Replication(0.0, "server")
    move = CharacterController.fields["move"]
    assert move.replicate == Replication(0.01, "owner") and not move.saved and move.group == "input"
    assert isinstance(Collider.fields["mask"].type, Flags) and Collider.fields["layer"].group == "collision"
    assert isinstance(Color(), ColorType) and Color(alpha=False).length == 3
    with pytest.raises(ValueError):
        Replication(authority="anyone")
    with pytest.raises(ValueError):
        AssetRef("texture-atlas")


class Rope(Component):
    """A rope between two entities."""

    target = Field(EntityRef(requires=("RigidBody",)), 0, doc="what the rope is tied to")
    length = Field(Float(0.1, 100.0), 2.0, doc="rest length", unit="m")
    color = Field(Color(), (1.0, 1.0, 1.0, 1.0))
    knots = Field(Int(0, 10), 0)
    layers = Field(Flags(8), 255)
    kind = Field(ComponentName(), "")
    anchor = Field(Vec3(-10, 10), (0.0, 0.0, 0.0))
    tension = Field(Float(), 0.0, editable=False, saved=False)


def test_the_component_schema_accepts_exactly_what_the_fields_accept() -> None:
    schema = component_schema(Rope)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["title"] == "Rope" and schema["description"] == "A rope between two entities."
    assert "tension" not in schema["properties"]  # a system writes it: not for a model to set
    assert schema["properties"]["length"]["description"] == "rest length (m)"
    validator = jsonschema.Draft202012Validator(schema)
    good = [{"length": 5}, {"color": [0.1, 0.2, 0.3, 1]}, {"knots": 3, "layers": 7}, {"anchor": [1, 2, 3]},
            {"target": 12}, {}]
    bad = [{"length": 0}, {"length": "long"}, {"color": [1, 1, 1]}, {"color": [2, 0, 0, 1]}, {"knots": 1.5},
           {"layers": 256}, {"anchor": [1, 2]}, {"target": -1}, {"colour": [1, 1, 1, 1]}]
    for data in good:
        assert validator.is_valid(data), data
        Rope().__class__(**data)  # the declaration accepts it too
    for data in bad:
        assert not validator.is_valid(data), data
        with pytest.raises(Exception):
            Rope(**data)


def test_every_builtin_component_has_a_valid_schema_that_accepts_its_defaults() -> None:
    rng = random.Random(3)
    for cls in BUILTIN_COMPONENTS:
        schema = component_schema(cls, editable_only=False)
        jsonschema.Draft202012Validator.check_schema(schema)
        data = cls().to_data(only_changed=False, saved_only=False)
        assert jsonschema.Draft202012Validator(schema).is_valid(data), cls.type_name
        name = rng.choice(list(data))
        assert not jsonschema.Draft202012Validator(schema).is_valid({**data, name: {"not": "this"}}), cls.type_name


def test_an_argument_list_schema_requires_every_argument() -> None:
    schema = arguments_schema({"target": Field(EntityRef(), 0), "speed": Field(Float(0, 5), 1.0)}, title="walk_to")
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"target": 3, "speed": 2})
    assert not validator.is_valid({"target": 3})
    assert not validator.is_valid({"target": 3, "speed": 2, "shout": True})


def test_a_field_that_would_hide_an_engine_attribute_is_refused_at_once() -> None:
    from engine.scripting.behaviour import Behaviour

    with pytest.raises(TypeError) as info:
        class Clash(Behaviour):  # noqa: F841 - the class statement is what is tested
            node = Field(Float(), 0.0)
    assert "field 'node' would hide Behaviour.node" in str(info.value)

    class Base(Behaviour):
        speed = Field(Float(), 1.0)

    class Faster(Base):  # redeclaring a field of a base is fine
        speed = Field(Float(), 2.0)

    assert Faster().speed == 2.0
