"""The narrative director: quests as JSON checked against the schema and the world, placed as
entities (a Quest, its steps, a trigger for a place to reach) with lore given to the quest giver;
asked of Grok first (the local stand-in here), cached, and a pack's quest when no model answers."""
from __future__ import annotations

import copy
import json
import time

import pytest

from ai.components import NpcBrain
from ai.director import Quest, QuestRejected, QuestStep, place_quest, request_quest
from engine.physics.components import Trigger
from tests.ai_grok_server import GrokStandIn
from tests.ai_helpers import MIRA, demo_world
from tests.test_ai_npcs import grok_backend


def pack_quest(world) -> dict:  # type: ignore[no-untyped-def]
    return world.services["runtime"].content.read_json("base:dialogue/mira.quest.json")


def test_a_quest_is_placed_as_entities_and_lore() -> None:
    world, service = demo_world()
    try:
        quest = pack_quest(world)
        root = place_quest(world, quest)
        assert world.get(root, Quest).title == "The toppled crates" and world.get(root, Quest).giver == MIRA
        steps = [world.get(e, QuestStep) for e in sorted(world.descendants(root))]
        assert [s.goal for s in steps] == ["reach", "talk"]
        reach = sorted(world.descendants(root))[0]
        assert world.has(reach, Trigger) and world.node(reach).getPos(world.root).x == pytest.approx(5.5)
        texts = [m["text"] for m in world.get(MIRA, NpcBrain).memories]
        assert "The crates hold flour from the mill on the plateau." in texts
    finally:
        service.close()


@pytest.mark.parametrize(("change", "reason"), [
    (lambda q: q.update(giver=21), "not an NPC"),
    (lambda q: q["steps"][0].update(target=9999), "no entity 9999"),
    (lambda q: q["steps"][0].update(goal="murder"), "does not fit the schema"),
    (lambda q: q.update(steps=[]), "does not fit the schema"),
    (lambda q: q.update(extra="x"), "does not fit the schema"),
])
def test_bad_quests_are_rejected_and_place_nothing(change, reason: str) -> None:  # type: ignore[no-untyped-def]
    world, service = demo_world()
    try:
        quest = copy.deepcopy(pack_quest(world))
        change(quest)
        count = len(world.entities())
        with pytest.raises(QuestRejected, match=reason):
            place_quest(world, quest)
        assert len(world.entities()) == count
    finally:
        service.close()


def run_until(world, done: list, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not done and time.monotonic() < deadline:
        world.tick()
        time.sleep(0.005)
    assert done, "no quest came back"


def test_grok_writes_the_quest_and_the_same_request_is_not_paid_twice() -> None:
    with GrokStandIn() as server:
        world, service = demo_world({"grok": grok_backend(server)})
        try:
            for _ in range(3):
                world.tick()  # Mira's items are handed out: the world brief stays the same from here
            quest = dict(pack_quest(world), title="Flour for the baker")
            server.answer = json.dumps(quest)
            placed: list = []
            request_quest(service, world, MIRA, pack_quest(world), lambda e, why: placed.append((e, why)))
            run_until(world, placed)
            entity, why = placed[0]
            assert why == "grok" and world.get(entity, Quest).title == "Flour for the baker"
            def narrative() -> list:  # type: ignore[type-arg]
                return [p for p in server.posts() if "title" in p[2]["text"]["format"]["schema"].get("properties", {})]

            assert len(narrative()) == 1
            again: list = []
            request_quest(service, world, MIRA, pack_quest(world), lambda e, why: again.append((e, why)))
            run_until(world, again)
            assert len(narrative()) == 1 and service.cascade.cache.hits == 1
        finally:
            service.close()


def test_without_a_model_the_packs_quest_is_placed() -> None:
    world, service = demo_world()
    try:
        placed: list = []
        request_quest(service, world, MIRA, pack_quest(world), lambda e, why: placed.append((e, why)))
        run_until(world, placed)
        assert placed[0][1] == "scripted" and world.get(placed[0][0], Quest).title == "The toppled crates"
    finally:
        service.close()


def test_a_model_quest_that_breaks_the_world_falls_back_to_the_packs() -> None:
    with GrokStandIn() as server:
        world, service = demo_world({"grok": grok_backend(server)})
        try:
            server.answer = json.dumps(dict(pack_quest(world), giver=12345))
            placed: list = []
            request_quest(service, world, MIRA, pack_quest(world), lambda e, why: placed.append((e, why)))
            run_until(world, placed)
            assert placed[0][1].startswith("pack quest (giver 12345")
        finally:
            service.close()
