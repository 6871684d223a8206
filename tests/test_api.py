"""engine.api, the one module pack scripts import: content/ uses nothing else of the engine's, and
the API holds what it promises (the engine's own classes, and helpers that work)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import engine.api as api
from engine.audio.system import AudioSystem
from engine.core.fields import Field
from engine.host.runtime import Runtime
from engine.physics.system import PhysicsSystem
from engine.scripting.behaviour import Behaviour
from tests.conftest import REPO_ROOT, TmpPack

PROMISED = {
    "API_VERSION", "Behaviour", "Component", "World", "Field", "FieldError",
    "AssetRef", "Bool", "Color", "EntityRef", "Enum", "Float", "Int", "Str", "Vec3", "Vector",
    "Actions", "InputOwner", "LOCAL_PLAYER",
    "CharacterController", "Collider", "RigidBody", "Trigger", "Joint", "ALL_LAYERS", "PhysicsSystem", "RayHit",
    "TriggerEntered", "TriggerExited", "Collision", "CollisionEnded", "trigger_occupants",
    "AudioSource", "AudioListener", "AudioSystem", "play_sound",
    "MeshRenderer", "Light", "Environment", "Animator", "AnimationSystem",
    "Camera", "CameraView", "FIXED", "FIRST_PERSON", "THIRD_PERSON", "ORBIT", "active_camera", "follow_view",
    "forward", "heading_of", "planar", "turn_towards", "wrap_degrees",
}


def engine_imports(path: Path) -> list[str]:
    """The engine modules a file imports (``engine.x`` for ``import engine.x`` and ``from engine.x import y``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "engine"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "engine":
            found += [node.module if node.module != "engine" else f"engine.{a.name}" for a in node.names]
    return found


def test_pack_scripts_import_nothing_of_the_engine_but_engine_api() -> None:
    scripts = sorted((REPO_ROOT / "content").rglob("*.py"))
    assert len(scripts) >= 3
    wrong = {str(path.relative_to(REPO_ROOT)): [m for m in engine_imports(path) if m != "engine.api"]
             for path in scripts}
    assert {path: modules for path, modules in wrong.items() if modules} == {}
    behaviours = [path for path in scripts if "scripts" in path.relative_to(REPO_ROOT).parts]
    assert behaviours and all("engine.api" in engine_imports(path) for path in behaviours)
    plugins = [path for path in scripts if path not in behaviours]  # they talk to the engine through plugins.api
    assert all(engine_imports(path) == [] for path in plugins)


def test_the_api_has_a_version_and_everything_it_promises() -> None:
    assert re.fullmatch(r"\d+\.\d+", api.API_VERSION)
    assert PROMISED <= set(api.__all__)
    assert all(hasattr(api, name) for name in api.__all__)
    assert api.Behaviour is Behaviour and api.Field is Field          # the engine's own, not copies
    assert api.PhysicsSystem is PhysicsSystem and api.AudioSystem is AudioSystem


def test_a_script_written_against_the_api_runs_with_its_helpers(make_pack, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    pack: TmpPack = make_pack("apimod", code=True)
    pack.write("scripts/watch.py", '''
from engine.api import AudioSource, Behaviour, EntityRef, Field, play_sound, trigger_occupants


class Watcher(Behaviour):
    """Counts who stands in a trigger and chimes while someone does."""

    zone = Field(EntityRef(), 0)

    def on_start(self):
        self.seen = set()
        self.chimes = 0

    def on_update(self, dt):
        self.seen = trigger_occupants(self.world, self.zone)
        if self.seen and play_sound(self.world, self.entity):
            self.chimes += 1
''')
    runtime.content.add_pack(pack.root).trusted = True  # behaviour scripts need a pack the player trusts
    world = runtime.new_world()
    zone = world.create_entity("zone")
    world.add(zone, api.Trigger())
    world.add(zone, api.Collider(shape="box", size=(4.0, 4.0, 4.0)))
    walker = world.create_entity("walker")
    world.add(walker, api.CharacterController())
    bell = world.create_entity("bell")
    watcher = world.add(bell, world.registry.resolve("apimod:watch.Watcher")(zone=zone))
    world.add(bell, api.AudioSource(sound="base:sounds/click.wav"))
    for _ in range(3):
        world.tick()
    assert watcher.seen == {walker} and watcher.chimes >= 1
    assert trigger_occupants_of_nothing(world) == set()
    assert api.play_sound(world, walker) is False                      # no AudioSource: nothing plays


def trigger_occupants_of_nothing(world: api.World) -> set[int]:
    return api.trigger_occupants(world, 999)
