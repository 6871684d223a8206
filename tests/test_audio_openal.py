"""The OpenAL path through Panda3D, with no sound card: OpenAL Soft's own null output driver
(ALSOFT_DRIVERS=null) gives a real OpenAL context; Panda3D's null audio library makes the
device fall back to the null device with a warning.

Each case runs in a fresh interpreter: Panda3D picks its audio library, and OpenAL Soft its
driver, once per process.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import json, logging, sys
from dataclasses import dataclass
from panda3d.core import AudioSound, loadPrcFileData
if sys.argv[1] == "library-null":
    loadPrcFileData("test", "audio-library-name null")
logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="LOG %(levelname)s %(message)s")
from engine.audio import AudioListener, AudioSource, AudioSystem, connect_collisions
from engine.core.world import World
from engine.packs.content import default_content

@dataclass(frozen=True)
class Collision:
    entity_a: int
    entity_b: int
    impulse: float
    point: object

world = World()
system = world.add_system(AudioSystem(default_content(), device="openal"))
connect_collisions(world, Collision)
camera = world.create_entity("camera")
world.add(camera, AudioListener())
music = world.create_entity("music")
world.add(music, AudioSource(sound="base:sounds/ambient_loop.wav", stream=True, loop=True, spatial=False,
                             play_on_start=True, volume=0.5))
box = world.create_entity("crate")
world.node(box).setPos(3, 4, 0)
world.add(box, AudioSource(sound="base:sounds/door_open.wav", play_on_collision=True, volume=0.8,
                           impulse_for_full_volume=10.0, min_distance=2.0, pitch=0.5))
broken = world.create_entity("broken")
world.add(broken, AudioSource(sound="base:models/crate.gltf", play_on_start=True))
world.tick()
world.events.emit(Collision(box, 0, 5.0, (3.0, 4.0, 0.0)))
world.tick()
# OpenAL plays in wall-clock time: read the 2.8-second one-shot's state straight away.
crate_playing = system.is_playing(box)
other = World()  # a second world closing (editor Play/Stop) must not silence this one
other.add_system(AudioSystem(default_content(), device="openal"))
other.close()
world.tick()
out = {"device": system.device.kind, "errors": system.errors,
       "playing": {"music": system.is_playing(music), "crate": crate_playing}}
if system.device.kind == "openal":
    crate_sound = system._slots[box].voice.sound
    music_sound = system._slots[music].voice.sound
    out["crate"] = {"volume": crate_sound.getVolume(), "rate": crate_sound.getPlayRate(),
                    "min_distance": crate_sound.get3dMinDistance()}
    out["music"] = {"volume": music_sound.getVolume(), "loop": music_sound.getLoop(),
                    "status_playing": music_sound.status() == AudioSound.PLAYING}
    world.remove(music, AudioSource)
    world.tick()
    out["music_after_remove"] = music_sound.status() == AudioSound.PLAYING
else:
    out["played"] = [[r.entity, r.volume, r.cause] for r in system.device.played]
world.close()
print("RESULT " + json.dumps(out))
"""


def run_case(case: str, extra_env: dict[str, str]) -> tuple[dict, str]:
    env = {**os.environ, **extra_env}
    done = subprocess.run([sys.executable, "-c", SCRIPT, case], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    result = next(line for line in lines if line.startswith("RESULT "))
    return json.loads(result[len("RESULT "):]), done.stdout


def test_real_openal_plays_through_the_same_system_code() -> None:
    result, _log = run_case("openal", {"ALSOFT_DRIVERS": "null", "ALSOFT_LOGLEVEL": "0"})
    if result["device"] != "openal":
        pytest.skip("OpenAL Soft's null driver did not open here")
    assert result["playing"] == {"music": True, "crate": True}
    assert result["crate"] == {"volume": pytest.approx(0.4), "rate": pytest.approx(0.5),
                               "min_distance": pytest.approx(2.0)}
    assert result["music"] == {"volume": pytest.approx(0.5), "loop": True, "status_playing": True}
    assert result["music_after_remove"] is False
    [error] = result["errors"]
    assert "('broken') AudioSource.sound" in error


def test_no_output_device_falls_back_to_the_null_device_with_a_warning() -> None:
    result, log = run_case("library-null", {})
    assert result["device"] == "null"
    assert "LOG WARNING no audio output" in log and "could not open an output device" in log
    music, crate = 2, 3
    assert result["played"] == [[music, 0.5, "start"], [crate, pytest.approx(0.4), "collision"]]
    assert result["playing"] == {"music": True, "crate": True}
