"""The action registry: every verb validated against the World before it runs (allowed for the
persona, argument types, targets that exist, have what they need and are in reach), applied as
world commands; pack verbs as data; the decision grammar and schema made from the registry."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ai.actions.decision import DecisionFormat, SayStream, parse_decision
from ai.actions.pack_actions import load_pack_actions, register_pack_actions
from ai.actions.registry import ActionRefused, ActionRegistry, Decision
from ai.components import Item, NpcBrain
from ai.install import add_ai_types
from engine.core.component import Component
from engine.core.errors import DataError
from engine.core.fields import Bool, Field
from engine.core.world import World
from engine.host.runtime import Runtime, create_runtime

ALL = ("say", "move_to", "follow", "look_at", "give", "take", "open", "emote", "attack", "flee", "wait")


class Chest(Component):
    """Something that opens (a Bool field named open)."""

    open = Field(Bool(), False)


def make_world() -> tuple[World, dict[str, int]]:
    runtime = create_runtime()
    add_ai_types(runtime)
    world = runtime.new_world(profile="server")
    world.registry.register(Chest)
    ids = {}
    for name, pos in (("npc", (0, 0, 0)), ("player", (1, 0, 0)), ("far", (30, 0, 0)), ("loaf", (0.5, 0, 0)),
                      ("chest", (1, 1, 0)), ("held", (0, 0, 0))):
        ids[name] = world.create_entity(name)
        world.node(ids[name]).setPos(*pos)
    world.add(ids["npc"], NpcBrain(reach=2.5, hearing=10.0))
    world.add(ids["loaf"], Item(label="loaf"))
    world.add(ids["held"], Item(label="coin", holder=ids["npc"]))
    world.add(ids["chest"], Chest())
    return world, ids


def test_valid_verbs_apply_through_world_commands() -> None:
    world, ids = make_world()
    registry = ActionRegistry.of(world)
    applied = []
    from engine.core.events import CommandApplied
    world.events.subscribe(CommandApplied, lambda e: applied.append(e.command))
    registry.perform(world, ids["npc"], Decision("move_to", {"target": ids["player"]}), ALL)
    assert world.get(ids["npc"], NpcBrain).goal_mode == "move"
    registry.perform(world, ids["npc"], Decision("take", {"item": ids["loaf"]}), ALL)
    assert world.get(ids["loaf"], Item).holder == ids["npc"] and world.parent_of(ids["loaf"]) == ids["npc"]
    registry.perform(world, ids["npc"], Decision("give", {"item": ids["held"], "to": ids["player"]}), ALL)
    assert world.get(ids["held"], Item).holder == ids["player"]
    registry.perform(world, ids["npc"], Decision("open", {"target": ids["chest"]}), ALL)
    assert world.get(ids["chest"], Chest).open is True
    registry.perform(world, ids["npc"], Decision("emote", {"name": "wave"}), ALL)
    assert world.get(ids["npc"], NpcBrain).emote == "wave"
    registry.perform(world, ids["npc"], Decision("look_at", {"target": ids["player"]}), ALL)
    assert world.node(ids["npc"]).getH() == pytest.approx(-90.0, abs=0.01)
    assert applied and all(type(c).__name__ == "Transaction" for c in applied)


@pytest.mark.parametrize(("decision", "reason"), [
    (Decision("give", {"item": 999, "to": 2}), "no entity 999"),
    (Decision("attack", {"target": 3}), "m away"),                      # far: out of reach
    (Decision("take", {"item": 2}), "has no Item"),                    # the player is not an item
    (Decision("give", {"item": 4, "to": 2}), "not carried by the actor"),  # the loaf lies on the ground
    (Decision("emote", {"name": "dance"}), "argument 'name'"),
    (Decision("wait", {"seconds": 99}), "argument 'seconds'"),
    (Decision("wait", {}), "missing argument"),
    (Decision("wait", {"seconds": 1, "gold": 5}), "unknown argument"),
    (Decision("fly", {}), "not among this persona's actions"),
    (Decision("attack", {"target": 1}), "the actor itself"),
    (Decision("open", {"target": 2}), "nothing that opens"),
    (Decision("dance", {}), "no such action in this world"),
])
def test_invalid_decisions_are_refused_and_change_nothing(decision: Decision, reason: str) -> None:
    world, ids = make_world()
    registry = ActionRegistry.of(world)
    before = world.get(ids["npc"], NpcBrain).to_data(only_changed=False, saved_only=False)
    with pytest.raises(ActionRefused, match=reason):
        registry.perform(world, ids["npc"], decision, ALL + ("dance",))
    assert world.get(ids["npc"], NpcBrain).to_data(only_changed=False, saved_only=False) == before


def test_a_verb_outside_the_persona_is_refused_even_when_valid() -> None:
    world, ids = make_world()
    with pytest.raises(ActionRefused, match="not among this persona's actions"):
        ActionRegistry.of(world).perform(world, ids["npc"], Decision("give", {"item": ids["held"], "to": ids["player"]}),
                                         ("say", "wait"))
    assert world.get(ids["held"], Item).holder == ids["npc"]


def test_grammar_and_schema_offer_only_allowed_verbs_and_usable_targets() -> None:
    world, ids = make_world()
    registry = ActionRegistry.of(world)
    npc = ids["npc"]
    perceived = [ids[n] for n in ("player", "loaf", "chest", "held")]
    fmt = DecisionFormat.build(registry.specs(["say", "give", "take", "open", "wait"]),
                               lambda spec, arg: [t for t in perceived if arg.offers(world, npc, t)])
    assert fmt.targets[("give", "item")] == [ids["held"]]          # only what it carries
    assert fmt.targets[("take", "item")] == [ids["loaf"]]          # only what lies about
    assert fmt.targets[("open", "target")] == [ids["chest"]]
    grammar = fmt.gbnf()
    assert "attack" not in grammar and "flee" not in grammar
    schema = fmt.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    good = {"say": "Here", "action": "give", "item": ids["held"], "to": ids["player"]}
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"say": "x", "action": "attack", "target": ids["player"]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "item": ids["loaf"]}, schema)


def test_a_verb_whose_target_is_not_around_is_left_out() -> None:
    world, ids = make_world()
    fmt = DecisionFormat.build(ActionRegistry.of(world).specs(["say", "follow"]), lambda spec, arg: [])
    assert fmt.names() == ["say"]


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"say": "hi"}', '{"action": 5}', '{"action": "say", "say": 3}'])
def test_answers_that_are_not_decisions_are_refused(text: str) -> None:
    with pytest.raises(ActionRefused):
        parse_decision(text)


def test_parse_keeps_say_and_flat_arguments() -> None:
    assert parse_decision('{"say":"Hi","action":"give","item":5,"to":30}') == Decision("give", {"item": 5, "to": 30}, "Hi")


def test_say_stream_yields_words_before_the_json_ends() -> None:
    words: list[str] = []
    stream = SayStream(words.append)
    for piece in ['{"sa', 'y":"Fresh ', 'bread to', 'day","action":"say"}']:
        stream.feed(piece)
        if piece.startswith("bread"):
            assert words == ["Fresh", "bread"]  # "today" is not finished yet
    assert words == ["Fresh", "bread", "today"]


def test_pack_verbs_run_their_commands(runtime: Runtime) -> None:
    world, ids = make_world()
    registry = ActionRegistry.of(world)
    names = register_pack_actions(registry, create_runtime().content, ["base:npc_actions/base.json"])
    assert names == ["calm_down"]
    world.get(ids["npc"], NpcBrain).stance = "hostile"
    registry.perform(world, ids["npc"], Decision("calm_down", {}), ("calm_down",))
    assert world.get(ids["npc"], NpcBrain).stance == "calm"


@pytest.mark.parametrize(("data", "where"), [
    ({"storm_npc_actions": 2, "actions": []}, "storm_npc_actions"),
    ({"storm_npc_actions": 1, "actions": [{"name": "x y", "commands": []}]}, "actions[0].name"),
    ({"storm_npc_actions": 1, "actions": [{"name": "x", "commands": []}]}, "actions[0].commands"),
    ({"storm_npc_actions": 1, "actions": [{"name": "x", "commands": [{"command": "Eval", "code": "1"}]}]},
     "actions[0].commands[0]"),
    ({"storm_npc_actions": 1, "actions": [{"name": "x", "args": {"a": {"type": "code"}},
                                           "commands": [{"command": "Rename", "entity": "$self", "name": "x"}]}]},
     "actions[0].args.a.type"),
])
def test_bad_pack_verbs_are_refused_naming_file_and_place(tmp_pack, data: object, where: str) -> None:
    tmp_pack.write("npc_actions/bad.json", json.dumps(data))
    from engine.packs.content import ContentRegistry

    content = ContentRegistry()
    content.add_pack(Path(tmp_pack.root))
    with pytest.raises(DataError) as caught:
        load_pack_actions(content, tmp_pack.asset_id("npc_actions/bad.json"))
    assert "bad.json" in str(caught.value) and where in str(caught.value)


def test_speech_in_the_grammar_cannot_hold_stage_directions_or_speaker_names() -> None:
    world, ids = make_world()
    fmt = DecisionFormat.build(ActionRegistry.of(world).specs(["say"]), lambda spec, arg: [])
    rule = next(line for line in fmt.gbnf().splitlines() if line.startswith("sc ::= "))
    excluded = rule[len("sc ::= [^"):-1]
    for char in ('"', "*", "(", ")", "[", "]", "{", "}", "<", ">", "~", ":"):
        assert char in excluded.replace("\\", ""), f"speech may contain {char!r}"
    for escape in ("\\n", "\\r", "\\t", "\\\\"):
        assert escape in excluded
