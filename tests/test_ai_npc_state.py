"""An NPC's mind across editing and Play: a world that is only loaded (as the editor holds it)
gets no starting memories, so a save from the editor keeps the hand-out of items for the game;
a restored snapshot (the editor's Stop) drops answers still in flight; an edited persona file is
read again by the NPCs playing it."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from ai.components import Item, NpcBrain
from engine.data.world_file import read_world, save_world
from tests.ai_helpers import MIRA, PLAYER, answer, decisions, demo_world


def test_a_loaded_world_is_seeded_at_its_first_tick_not_before(tmp_path: Path) -> None:
    world, service = demo_world()
    try:
        assert world.get(MIRA, NpcBrain).memories == [] and not world.all_of(Item)
        path = tmp_path / "edited.world.json"
        save_world(world, path)                       # what the editor's save writes: no seeds
        again = read_world(path, world.services["runtime"])
        again.tick()
        texts = [m["text"] for m in again.get(MIRA, NpcBrain).memories]
        assert texts[0] == "I baked a fresh loaf of bread this morning." and "I carry" in texts[-1]
        assert sorted(i.label for i in again.all_of(Item).values()) == ["bread roll", "loaf of bread"]
        again.close()
    finally:
        service.close()


def test_seeds_come_before_a_line_heard_before_the_first_tick() -> None:
    world, service = demo_world()
    try:
        service.talk(world, MIRA, "Good morning")
        world.tick()
        kinds = [m["kind"] for m in world.get(MIRA, NpcBrain).memories]
        assert kinds[:3] == ["seed", "seed", "seed"] and kinds[3] == "heard"
    finally:
        service.close()


def test_an_answer_in_flight_at_restore_is_dropped() -> None:
    world, service = demo_world()
    try:
        world.tick()
        snapshot = world.snapshot()
        before = [dict(m) for m in world.get(MIRA, NpcBrain).memories]
        service.say(world, PLAYER, "Hello Mira")
        world.tick()                                  # the decision is asked for
        time.sleep(0.3)                               # ... and its answer is posted, not yet applied
        world.restore(snapshot)
        for _ in range(5):
            world.tick()
        brain = world.get(MIRA, NpcBrain)
        assert brain.memories == before and brain.speech == "" and brain.thinking == "no"
        count = decisions(service, MIRA)
        service.say(world, PLAYER, "Hello again")
        answer(world, service, MIRA, count)           # she goes on thinking
        assert world.get(MIRA, NpcBrain).speech
    finally:
        service.close()


def test_a_restore_brings_back_a_newborn_npc() -> None:
    world, service = demo_world()
    try:
        snapshot = world.snapshot()                   # the editor's Play: taken before any tick
        world.tick()
        assert world.get(MIRA, NpcBrain).memories and len(world.all_of(Item)) == 2
        world.restore(snapshot)
        assert world.get(MIRA, NpcBrain).memories == [] and not world.all_of(Item)
        world.tick()                                  # the second Play seeds her again
        assert len(world.get(MIRA, NpcBrain).memories) == 3 and len(world.all_of(Item)) == 2
    finally:
        service.close()


def test_an_edited_persona_is_read_again_by_its_npcs(tmp_path: Path) -> None:
    from ai.install import install_ai
    from engine.host.runtime import create_runtime
    from engine.packs.content import BASE_PACK_DIR, ContentRegistry
    from tests.ai_helpers import MIRA_PERSONA, settings
    from tests.conftest import DEMO_WORLD

    content = ContentRegistry()
    content.add_pack(shutil.copytree(BASE_PACK_DIR, tmp_path / "base")).trusted = True
    runtime = create_runtime(content)
    service = install_ai(runtime, settings())
    world = read_world(DEMO_WORLD, runtime)
    try:
        persona = service.persona(MIRA_PERSONA)
        persona.style = "terse, no more than five words"
        service.save_persona(MIRA_PERSONA, persona)
        service.system_of(world).persona_changed(MIRA_PERSONA)
        assert service.system_of(world).minds[MIRA].persona.style == "terse, no more than five words"
        assert "terse" in (tmp_path / "base" / "personas" / "mira.persona.json").read_text()
    finally:
        world.close()
        service.close()
