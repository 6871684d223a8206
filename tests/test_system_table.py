"""The tick table: world profiles (game, server) and systems added through the runtime's hook."""
from __future__ import annotations

import pytest

from engine.audio import AudioSystem
from engine.camera.system import CameraSystem
from engine.core.system import ORDER_CAMERA, ORDER_PHYSICS, System
from engine.core.world import World
from engine.host.runtime import Runtime
from engine.physics import Collider, RigidBody
from engine.render.components import MeshRenderer
from engine.render.system import RenderSystem
from engine.scripting.behaviour import ScriptSystem


def falling_box(world: World) -> int:
    box = world.create_entity("box")
    world.node(box).setPos(0, 0, 5)
    world.add(box, RigidBody(mass=1.0))
    world.add(box, Collider(shape="box"))
    world.add(box, MeshRenderer())
    return box


def test_a_server_world_has_no_render_audio_or_camera_but_simulates_physics_and_scripts(runtime: Runtime) -> None:
    world = runtime.new_world(profile="server")
    names = [system.name for system in world.systems()]
    assert names == ["input", "prefab_watch", "scripts", "terrain", "physics"]
    assert world.system(RenderSystem) is None and world.system(AudioSystem) is None
    assert world.system(CameraSystem) is None
    box = falling_box(world)
    spinner = world.create_entity("spinner")
    world.add(spinner, world.registry.resolve("base:motion.Spinner")(speed=60.0))
    for _ in range(30):
        world.tick()
    assert world.node(box).getZ() < 4.0                   # Bullet ran
    assert world.node(spinner).getH() == pytest.approx(30.0, abs=1e-3)  # the script ran
    assert world.node(box).find("mesh").isEmpty()         # nothing was built to be drawn
    assert world.system(ScriptSystem).live_count() == 1


def test_the_game_profile_is_the_default_and_runs_the_table_in_order(runtime: Runtime) -> None:
    world = runtime.new_world()
    assert [(s.name, s.order) for s in world.systems()] == [
        ("input", 100), ("prefab_watch", 190), ("scripts", 200), ("terrain", 290), ("physics", 300), ("animation", 350),
        ("camera", 380), ("audio", 400), ("render_sync", 900)]
    box = falling_box(world)
    assert not world.node(box).find("mesh").isEmpty()


class Probe(System):
    """Notes, when it runs, which systems already ran this tick and where the box is."""

    name = "probe"

    def __init__(self, box_name: str) -> None:
        self.box_name = box_name
        self.seen: list[tuple[list[str], float]] = []

    def update(self, world: World, dt: float) -> None:
        ran_before = list(world.system_ms) if not self.seen else []
        self.seen.append((ran_before, world.node(world.find(self.box_name)).getZ()))


def test_a_system_added_through_the_hook_runs_at_its_declared_order(runtime: Runtime) -> None:
    probes: list[Probe] = []

    def make_probe(rt: Runtime, world: World) -> System:
        probes.append(Probe("box"))
        return probes[-1]

    runtime.add_system(make_probe, order=ORDER_PHYSICS + 10, name="probe")   # after physics, before camera
    world = runtime.new_world()
    probe = probes[0]
    assert world.system(Probe) is probe and probe.order == ORDER_PHYSICS + 10
    box = falling_box(world)
    heights = []
    for _ in range(3):
        world.tick()
        heights.append(world.node(box).getZ())
    first_tick_ran_before, _ = probe.seen[0]
    assert first_tick_ran_before == ["input", "prefab_watch", "scripts", "terrain", "physics"]
    assert [z for _, z in probe.seen] == heights          # it saw each tick's physics result
    assert heights[2] < heights[1] < 5.0
    names = [s.name for s in world.systems()]
    assert names.index("physics") < names.index("probe") < names.index("animation")
    assert ORDER_PHYSICS + 10 < ORDER_CAMERA


def test_hook_profiles_choose_the_worlds_that_get_the_system(runtime: Runtime) -> None:
    runtime.add_system(lambda rt, world: Probe("box"), order=450, profiles=("server",), name="replication")
    assert runtime.new_world(profile="server").system(Probe) is not None
    assert runtime.new_world().system(Probe) is None


def test_an_unknown_profile_is_refused_naming_the_known_ones(runtime: Runtime) -> None:
    with pytest.raises(ValueError, match="unknown world profile 'editor'; expected one of game, server"):
        runtime.new_world(profile="editor")
