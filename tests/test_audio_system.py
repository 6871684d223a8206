"""The AudioSystem on the null device: what would have played, when, how loud and where."""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.audio import AudioListener, AudioSource, AudioSystem, NullAudioDevice, connect_collisions
from engine.core.world import World
from engine.host.runtime import create_runtime
from engine.packs.content import ContentRegistry, default_content

IMPACT = "base:sounds/impact.wav"
LOOP = "base:sounds/ambient_loop.wav"
STEP = "base:sounds/footstep.wav"


@dataclass(frozen=True)
class Collision:
    """Stands in for the physics package's collision event (same attribute names)."""

    entity_a: int
    entity_b: int
    impulse: float
    point: Any


def make_world(content: ContentRegistry | None = None) -> tuple[World, AudioSystem, NullAudioDevice]:
    world = World()
    device = NullAudioDevice()
    system = world.add_system(AudioSystem(content or default_content(), device=device))
    return world, system, device  # type: ignore[return-value]


def crate(world: World, name: str = "crate", **fields: Any) -> int:
    eid = world.create_entity(name)
    values = {"sound": IMPACT, "play_on_collision": True, "collision_cooldown": 0.0, **fields}
    world.add(eid, AudioSource(**values))
    return eid


def test_collision_sound_gets_louder_with_impulse_up_to_the_source_volume() -> None:
    world, _system, device = make_world()
    box = crate(world, volume=0.8, impulse_for_full_volume=10.0)
    connect_collisions(world, Collision)
    world.tick()
    for impulse in (1.0, 4.0, 9.0, 20.0, 50.0):
        world.events.emit(Collision(box, 0, impulse, (1.0, 2.0, 0.5)))
        world.tick()
    volumes = [request.volume for request in device.plays_of(box)]
    assert volumes[:3] == pytest.approx([0.08, 0.32, 0.72])
    assert volumes[3:] == pytest.approx([0.8, 0.8])
    first = device.plays_of(box)[0]
    assert (first.cause, first.sound, first.position) == ("collision", IMPACT, (1.0, 2.0, 0.5))
    assert [r.tick for r in device.plays_of(box)] == [1, 2, 3, 4, 5]


def test_soft_contacts_are_silent_and_a_cooldown_stops_rattling() -> None:
    world, system, device = make_world()
    box = crate(world, min_impulse=2.0, collision_cooldown=0.5)
    world.tick()
    assert not system.play_impact(box, 1.5, None)
    assert system.play_impact(box, 3.0, None)
    world.tick()
    assert not system.play_impact(box, 30.0, None)  # within the cooldown
    for _ in range(40):
        world.tick()
    assert system.play_impact(box, 30.0, None)
    assert len(device.plays_of(box)) == 2


def test_both_bodies_of_a_collision_sound_and_others_are_ignored() -> None:
    world, _system, device = make_world()
    a, b = crate(world, "a"), crate(world, "b")
    silent = world.create_entity("wall")
    connect_collisions(world, Collision)
    world.events.emit(Collision(a, b, 5.0, None))
    world.events.emit(Collision(silent, 0, 5.0, None))
    world.events.emit(Collision(a, b, "not a number", None))  # type: ignore[arg-type]
    world.tick()
    assert [r.entity for r in device.played] == [a, b]


def test_collision_events_without_the_needed_attributes_are_refused() -> None:
    @dataclass
    class Bump:
        entity: int

    world, _system, _device = make_world()
    with pytest.raises(TypeError, match="entity_a"):
        connect_collisions(world, Bump)


def test_music_streams_and_loops_from_the_first_tick_until_removed() -> None:
    world, system, device = make_world()
    music = world.create_entity("music")
    world.add(music, AudioSource(sound=LOOP, stream=True, loop=True, spatial=False, play_on_start=True, volume=0.5))
    world.tick()
    [request] = device.played
    assert (request.entity, request.stream, request.loop, request.spatial, request.volume, request.cause) == (
        music, True, True, False, 0.5, "start")
    [voice] = device.voices
    assert voice.stream and not voice.spatial
    for _ in range(60 * 10):  # longer than the 8-second file
        world.tick()
    assert system.is_playing(music)
    world.remove(music, AudioSource)
    world.tick()
    assert voice.released and not voice.playing() and device.voices == []
    assert len(device.played) == 1


def test_a_one_shot_ends_after_its_length_divided_by_pitch() -> None:
    world, system, device = make_world()
    normal, fast = world.create_entity("normal"), world.create_entity("fast")
    world.add(normal, AudioSource(sound=STEP, play_on_start=True))
    world.add(fast, AudioSource(sound=STEP, play_on_start=True, pitch=2.0))
    world.tick()
    assert system.is_playing(normal) and system.is_playing(fast)
    for _ in range(10):  # 0.28 s file: the fast copy is over after 0.14 s
        world.tick()
    assert system.is_playing(normal) and not system.is_playing(fast)
    for _ in range(10):
        world.tick()
    assert not system.is_playing(normal)
    assert [r.pitch for r in device.played] == [1.0, 2.0]


def test_a_playing_sound_follows_its_entity_through_parents() -> None:
    world, _system, device = make_world()
    cart = world.create_entity("cart")
    world.node(cart).setPos(10, 0, 0)
    horn = world.create_entity("horn", parent=cart)
    world.node(horn).setPos(0, 0, 1)
    world.add(horn, AudioSource(sound=LOOP, loop=True, play_on_start=True, min_distance=2.0, max_distance=50.0))
    world.tick()
    assert device.played[0].position == pytest.approx((10, 0, 1))
    world.node(cart).setPos(11, 0, 0)
    world.tick()
    [voice] = device.voices
    assert voice.position == pytest.approx((11, 0, 1))
    assert voice.velocity == pytest.approx((60.0, 0, 0))  # 1 m in one 1/60 s tick
    assert (voice.min_distance, voice.max_distance) == (2.0, 50.0)


def test_the_listener_is_the_entity_with_an_audio_listener() -> None:
    world, _system, device = make_world()
    world.tick()
    assert device.listener.position == (0.0, 0.0, 0.0) and device.listener.forward == (0.0, 1.0, 0.0)
    rig = world.create_entity("rig")
    world.node(rig).setPos(0, -5, 0)
    camera = world.create_entity("camera", parent=rig)
    world.node(camera).setPos(0, 0, 2)
    world.node(camera).setH(90)  # turn left: forward becomes -X
    world.add(camera, AudioListener(volume=0.25))
    world.tick()
    listener = device.listener
    assert listener.position == pytest.approx((0, -5, 2))
    assert listener.forward == pytest.approx((-1, 0, 0), abs=1e-6)
    assert listener.up == pytest.approx((0, 0, 1), abs=1e-6)
    assert listener.volume == 0.25


def test_field_changes_reach_the_playing_sound() -> None:
    world, _system, device = make_world()
    eid = world.create_entity("radio")
    source = world.add(eid, AudioSource(sound=STEP, loop=True, play_on_start=True))
    world.tick()
    [voice] = device.voices
    world.set_field(eid, source, "volume", 0.3)
    world.set_field(eid, source, "pitch", 1.5)
    assert (voice.volume, voice.pitch) == (0.3, 1.5)
    world.set_field(eid, source, "sound", LOOP)
    world.tick()
    assert voice.released
    assert [r.sound for r in device.played] == [STEP, LOOP]
    assert device.voices[0].info.asset_id == LOOP and device.voices[0].playing()


def write_pack(root: Path, files: dict[str, bytes]) -> ContentRegistry:
    root.mkdir()
    (root / "pack.json").write_text(json.dumps({"name": "mod", "version": "1.0.0"}))
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    content = default_content()
    content.add_pack(root)
    return content


def test_a_sound_that_does_not_decode_is_named_and_the_world_keeps_running(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    content = write_pack(tmp_path / "mod", {"sounds/broken.wav": b"RIFF not really a wave file" * 20})
    world, system, device = make_world(content)
    bad = crate(world, "bad crate", sound="mod:sounds/broken.wav", play_on_start=True)
    good = crate(world, "good crate", play_on_start=True)
    connect_collisions(world, Collision)
    with caplog.at_level(logging.ERROR, logger="storm.audio"):
        for _ in range(5):
            world.events.emit(Collision(bad, good, 8.0, None))
            world.tick()
    [message] = system.errors
    assert f"entity {bad} ('bad crate') AudioSource.sound" in message
    assert "broken.wav" in message and "does not decode" in message and "not a PCM WAV file" in message
    assert [r.message for r in caplog.records if r.levelno == logging.ERROR] == [message]
    assert {r.entity for r in device.played} == {good}
    assert world.tick_count == 5 and not system.play(bad)


@pytest.mark.parametrize("sound, reason", [
    ("mod:sounds/missing.wav", "pack 'mod' has no file 'sounds/missing.wav'"),
    ("nopack:sounds/x.wav", "no enabled pack named 'nopack'"),
    ("mod:notes.txt", "is not a sound file"),
    ("mod:sounds/empty.ogg", "not an Ogg file"),
])
def test_missing_and_wrong_files_are_reported(tmp_path: Path, sound: str, reason: str) -> None:
    content = write_pack(tmp_path / "mod", {"notes.txt": b"hello", "sounds/empty.ogg": b""})
    world, system, device = make_world(content)
    eid = world.create_entity("speaker")
    world.add(eid, AudioSource(sound=sound, play_on_start=True))
    world.tick()
    assert len(system.errors) == 1 and reason in system.errors[0] and f"entity {eid} ('speaker')" in system.errors[0]
    assert not device.played


def test_destroying_a_playing_entity_stops_its_sound() -> None:
    world, system, device = make_world()
    eid = crate(world, loop=True, play_on_start=True)
    world.tick()
    [voice] = device.voices
    world.destroy(eid)
    world.tick()
    assert voice.released and not system.is_playing(eid)
    assert not system.play_impact(eid, 100.0, None)


def test_the_runtime_content_and_a_device_kind_are_enough() -> None:
    runtime = create_runtime()
    world = runtime.new_world()
    system = world.add_system(AudioSystem(device="null"))
    assert isinstance(system.device, NullAudioDevice)
    eid = world.create_entity("door")
    world.add(eid, AudioSource(sound="base:sounds/door_open.wav", play_on_start=True))
    world.tick()
    assert [r.sound for r in system.device.played] == ["base:sounds/door_open.wav"]
    world.close()
    assert system.device.closed


def test_bad_values_from_data_are_refused_by_the_field_declarations() -> None:
    with pytest.raises(Exception, match="a number in"):
        AudioSource(volume=math.inf)
    with pytest.raises(Exception, match="sound asset id"):
        AudioSource(sound="impact.wav")


def test_the_null_device_keeps_only_the_newest_records() -> None:
    world = World()
    device = NullAudioDevice(max_records=3)
    system = world.add_system(AudioSystem(default_content(), device=device))
    box = crate(world)
    for impulse in range(1, 8):
        world.tick()
        system.play_impact(box, float(impulse), None)
    assert [round(r.volume, 2) for r in device.played] == [0.5, 0.6, 0.7]


def test_the_physics_collision_event_fits_the_contract() -> None:
    events = pytest.importorskip("engine.physics.events")
    world, _system, device = make_world()
    box = crate(world, volume=1.0, impulse_for_full_volume=4.0)
    connect_collisions(world, events.Collision)
    world.events.emit(events.Collision(box, 0, (0.0, 0.0, 0.0), (0.0, 0.0, 1.0), 2.0))
    assert [r.volume for r in device.played] == [0.5]
