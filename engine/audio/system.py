"""The AudioSystem: turns AudioSource and AudioListener components into sound on an audio device.

One code path for every device: with speakers it drives OpenAL through Panda3D, headless it
drives the null device, which records what would have played. A sound file that does not
decode is reported once, naming the entity and component, and that entity stays silent.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from engine.audio.components import AudioListener, AudioSource
from engine.audio.device import AudioDevice, ListenerState, PlayRequest, Vec3, Voice, open_device
from engine.core.events import ComponentAdded, ComponentRemoved, FieldChanged
from engine.core.system import ORDER_AUDIO, System
from engine.packs.content import ContentRegistry, default_content
from engine.packs.sound_files import SoundFileError, SoundInfo, probe_sound

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.audio")

_RELOAD_FIELDS = frozenset(("sound", "spatial", "stream"))
_ZERO: Vec3 = (0.0, 0.0, 0.0)


@dataclass(eq=False)
class _Slot:
    """What the system keeps for one AudioSource: its voice, or why it has none."""

    source: AudioSource
    voice: Voice | None = None
    failed: bool = False
    last_hit: float = -math.inf
    last_position: Vec3 | None = None
    velocity: Vec3 = _ZERO
    plays: int = 0                 # times started: tells a snapshot restore which sounds began since


class AudioSystem(System):
    """Plays AudioSources (on start, on collisions, on request) and places them around the listener.

    ``device`` is an AudioDevice, or a kind for ``open_device`` ("openal" falls back to "null"
    with a warning when no output opens). A device passed in stays open when the system detaches.
    """

    name = "audio"
    order = ORDER_AUDIO

    def __init__(self, content: ContentRegistry | None = None, device: AudioDevice | str = "openal") -> None:
        self.content = content
        self._owns_device = isinstance(device, str)
        self.device: AudioDevice = open_device(device) if isinstance(device, str) else device
        self.errors: list[str] = []
        self._world: "World | None" = None
        self._slots: dict[int, _Slot] = {}
        self._starting: list[_Slot] = []
        self._active: dict[int, _Slot] = {}
        self._probed: dict[str, SoundInfo | SoundFileError] = {}
        self._listener_last: Vec3 | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def attach(self, world: "World") -> None:
        self._world = world
        if self.content is None:
            runtime = world.services.get("runtime")
            self.content = runtime.content if runtime is not None else default_content()
        self.listen(world, {ComponentAdded: self._on_added, ComponentRemoved: self._on_removed,
                            FieldChanged: self._on_changed}, (AudioSource,))

    def detach(self, world: "World") -> None:
        self.stop_listening()
        for slot in self._slots.values():
            if slot.voice is not None:
                slot.voice.release()
        self._slots.clear()
        self._active.clear()
        self._starting.clear()
        if self._owns_device:
            self.device.close()

    # -- snapshots ------------------------------------------------------------------------------
    def save_state(self, world: "World") -> dict[str, Any]:
        """Per source: when it was last hit (the collision cooldown), where it was and how fast it
        moved, how often it was started and whether it was sounding; the sources waiting for their
        first tick; where the listener was."""
        slots = {eid: (slot.last_hit, slot.last_position, slot.velocity, slot.plays, eid in self._active)
                 for eid, slot in self._slots.items()}
        return {"slots": slots, "starting": [slot.source.entity for slot in self._starting],
                "listener": self._listener_last}

    def load_state(self, world: "World", state: dict[str, Any] | None) -> None:
        """Sounds started since the snapshot stop; one sounding then and not started again since
        plays on (a sound that has ended since does not start again)."""
        if state is None:
            return
        self._active = {}
        for eid, slot in self._slots.items():
            last_hit, position, velocity, plays, sounding = state["slots"].get(eid, (-math.inf, None, _ZERO, -1, False))
            slot.last_hit, slot.last_position, slot.velocity = last_hit, position, velocity
            if slot.voice is None or not slot.voice.playing():
                continue
            if sounding and slot.plays == plays:
                self._active[eid] = slot
            else:
                slot.voice.stop()
        self._starting = [self._slots[eid] for eid in state["starting"] if eid in self._slots]
        self._listener_last = state["listener"]

    def _on_added(self, event: ComponentAdded) -> None:
        if isinstance(event.component, AudioSource):
            old = self._slots.pop(event.entity, None)
            if old is not None and old.voice is not None:
                old.voice.release()
            slot = _Slot(event.component)
            self._slots[event.entity] = slot
            self._starting.append(slot)

    def _on_removed(self, event: ComponentRemoved) -> None:
        if not isinstance(event.component, AudioSource):
            return
        slot = self._slots.get(event.entity)
        if slot is None or slot.source is not event.component:
            return
        del self._slots[event.entity]
        self._active.pop(event.entity, None)
        if slot in self._starting:
            self._starting.remove(slot)
        if slot.voice is not None:
            slot.voice.release()

    def _on_changed(self, event: FieldChanged) -> None:
        slot = self._slots.get(event.entity)
        if slot is None or slot.source is not event.component:
            return
        source = slot.source
        if event.field in _RELOAD_FIELDS:
            was_looping = slot.voice is not None and slot.voice.playing() and source.loop
            if slot.voice is not None:
                slot.voice.release()
            slot.voice, slot.failed = None, False
            self._active.pop(event.entity, None)
            if was_looping:
                self.play(event.entity, cause="script")
            return
        voice = slot.voice
        if voice is None:
            return
        if event.field == "volume":
            voice.set_volume(source.volume)
        elif event.field == "pitch":
            voice.set_pitch(source.pitch)
        elif event.field == "loop":
            voice.set_loop(source.loop)
        elif event.field in ("min_distance", "max_distance"):
            voice.set_distances(source.min_distance, max(source.min_distance, source.max_distance))

    # -- the tick -------------------------------------------------------------------------------
    def update(self, world: "World", dt: float) -> None:
        if self._starting:
            starting, self._starting = self._starting, []
            for slot in starting:
                if self._ready(slot) and slot.source.play_on_start:
                    self.play(slot.source.entity, cause="start")
        self.device.set_listener(self._listener_state(world, dt))
        if self._active:
            root = world.root
            inverse_dt = 1.0 / dt if dt > 0 else 0.0
            for eid, slot in list(self._active.items()):
                voice = slot.voice
                if voice is None or not voice.playing():
                    del self._active[eid]
                    slot.last_position, slot.velocity = None, _ZERO
                    continue
                if not slot.source.spatial:
                    continue
                pos = world.node(eid).getPos(root)
                position = (pos[0], pos[1], pos[2])
                last = slot.last_position
                if position == last and slot.velocity == _ZERO:
                    continue  # a still source: nothing to tell the device
                slot.velocity = _ZERO if last is None else (
                    (position[0] - last[0]) * inverse_dt, (position[1] - last[1]) * inverse_dt,
                    (position[2] - last[2]) * inverse_dt)
                slot.last_position = position
                voice.move(position, slot.velocity)
        self.device.update(world.time)

    def _listener_state(self, world: "World", dt: float) -> ListenerState:
        chosen: tuple[int, AudioListener] | None = None
        for eid, listener in world.query(AudioListener):
            if listener.active and (chosen is None or eid < chosen[0]):
                chosen = (eid, listener)
        if chosen is None:
            self._listener_last = None
            return ListenerState()
        eid, listener = chosen
        root = world.root
        node = world.node(eid)
        pos = node.getPos(root)
        quat = node.getQuat(root)
        forward, up = quat.getForward(), quat.getUp()
        position = (pos[0], pos[1], pos[2])
        last = self._listener_last
        velocity = _ZERO if last is None or dt <= 0 else tuple((position[i] - last[i]) / dt for i in range(3))
        self._listener_last = position
        return ListenerState(position, velocity, (forward[0], forward[1], forward[2]),  # type: ignore[arg-type]
                             (up[0], up[1], up[2]), listener.volume)

    # -- what scripts, physics and tests call ----------------------------------------------------
    def play(self, entity: int, *, volume: float | None = None, position: Any = None, cause: str = "script") -> bool:
        """Play an entity's AudioSource now (restarting it); False when it has none or cannot play."""
        slot = self._slots.get(entity)
        if slot is None or not self._ready(slot) or self._world is None:
            return False
        world, source = self._world, slot.source
        if position is None:
            pos = world.node(entity).getPos(world.root)
            position = (pos[0], pos[1], pos[2])
        else:
            position = _vec3(position)
        request = PlayRequest(
            tick=world.tick_count, time=world.time, entity=entity, sound=source.sound,
            volume=source.volume if volume is None else volume, pitch=source.pitch, loop=source.loop,
            spatial=source.spatial, stream=source.stream, position=position, velocity=slot.velocity,
            min_distance=source.min_distance, max_distance=max(source.min_distance, source.max_distance), cause=cause)
        assert slot.voice is not None
        slot.voice.play(request)
        slot.plays += 1
        self._active[entity] = slot
        return True

    def play_impact(self, entity: int, impulse: float, position: Any = None) -> bool:
        """A collision hit ``entity`` with ``impulse`` (N*s): play its collision sound, louder for
        harder hits, reaching ``volume`` at ``impulse_for_full_volume``. False when nothing plays."""
        slot = self._slots.get(entity)
        if slot is None or not slot.source.play_on_collision or self._world is None:
            return False
        source = slot.source
        try:
            impulse = abs(float(impulse))
        except (TypeError, ValueError):
            return False
        if not math.isfinite(impulse) or impulse < source.min_impulse or impulse <= 0.0:
            return False
        now = self._world.time
        if now - slot.last_hit < source.collision_cooldown:
            return False
        volume = source.volume * min(1.0, impulse / source.impulse_for_full_volume)
        if self.play(entity, volume=volume, position=position, cause="collision"):
            slot.last_hit = now
            return True
        return False

    def stop(self, entity: int) -> None:
        """Stop an entity's sound if it is playing."""
        slot = self._slots.get(entity)
        if slot is not None and slot.voice is not None:
            slot.voice.stop()
            self._active.pop(entity, None)

    def is_playing(self, entity: int) -> bool:
        slot = self._slots.get(entity)
        return bool(slot and slot.voice and slot.voice.playing())

    # -- loading --------------------------------------------------------------------------------
    def _ready(self, slot: _Slot) -> bool:
        """Load the slot's voice on first need; report a sound that cannot play, once."""
        if slot.voice is not None:
            return True
        if slot.failed:
            return False
        source = slot.source
        info = self._probe(source.sound)
        try:
            if isinstance(info, SoundFileError):
                raise info
            slot.voice = self.device.load(info, spatial=source.spatial, stream=source.stream)
        except (SoundFileError, RuntimeError) as exc:
            slot.failed = True
            self._report(source, "sound", f"a sound file that plays; cannot play {source.sound!r}: {exc}",
                         "the entity stays silent")
            return False
        if source.spatial and info.channels > 1:
            self._report(source, "spatial", f"a mono sound for 3D positioning; {source.sound!r} has "
                         f"{info.channels} channels", "it plays unpositioned", level=logging.WARNING)
        if source.min_distance > source.max_distance:
            self._report(source, "max_distance", f"at least min_distance ({source.min_distance:g}), got "
                         f"{source.max_distance:g}", "using min_distance", level=logging.WARNING)
        return True

    def _probe(self, asset_id: str) -> SoundInfo | SoundFileError:
        found = self._probed.get(asset_id)
        if found is None:
            assert self.content is not None
            try:
                found = probe_sound(self.content, asset_id)
            except SoundFileError as exc:
                found = exc
            self._probed[asset_id] = found
        return found

    def _report(self, source: AudioSource, field: str, expected: str, outcome: str,
                level: int = logging.ERROR) -> None:
        world = self._world
        name = world.name_of(source.entity) if world is not None else ""
        message = (f"entity {source.entity} ({name!r}) {source.type_name}.{field}: expected {expected}; "
                   f"{outcome}")
        log.log(level, message)
        self.errors.append(message)


def connect_collisions(world: "World", event_type: type) -> Callable[[], None]:
    """Play collision sounds for every ``event_type`` event on ``world.events``.

    The event needs ``entity_a``, ``entity_b`` (ids, 0 for none), ``impulse`` (N*s) and ``point``
    (world position of the contact, or None). Returns a function that disconnects.
    """
    if dataclasses.is_dataclass(event_type):
        names = {f.name for f in dataclasses.fields(event_type)}
        missing = [n for n in ("entity_a", "entity_b", "impulse", "point") if n not in names]
        if missing:
            raise TypeError(f"{event_type.__name__} cannot drive collision sounds: it has no {', '.join(missing)}")

    def on_collision(event: Any) -> None:
        system = world.system(AudioSystem)
        if system is None:
            return
        try:
            impulse, point = event.impulse, event.point
            for eid in (event.entity_a, event.entity_b):
                if eid:
                    system.play_impact(eid, impulse, point)
        except Exception:  # noqa: BLE001 - a malformed event must not stop the emitter's tick
            log.exception("collision event %r could not be turned into sound", event)

    return world.events.subscribe(event_type, on_collision)


def _vec3(value: Any) -> Vec3:
    return (float(value[0]), float(value[1]), float(value[2]))
