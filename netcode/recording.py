"""Session recordings: what a server's world was given, tick by tick, so that the session can be
played again in a World to the same state, sought and sped up, and read as a transcript.

A recording is JSON lines (data, never code). The first line is the header::

    {"storm_session": 1, "world": "worlds/demo.world.json", "seed": 7, "tick_rate": 60.0, "start": 0}

then one line per happening, each with the tick ``t`` it happened before:
``{"t": 12, "join": "ann", "entity": 64}``, ``{"t": 12, "in": "ann", "f": {...}}`` (a player's input
from that tick on), ``{"t": 80, "chat": "ann", "text": "hi"}``, ``{"t": 95, "command": "ann", "json":
{...}}``, ``{"t": 95, "rpc": "ann", "json": {...}}``, ``{"t": 12, "vr": "bob", "on": true}`` (bob plays in VR:
his inputs carry head and hand poses), ``{"t": 300, "off": "ann"}`` (disconnected),
``{"t": 2100, "leave": "ann"}``; every second ``{"t": 120, "digest": "..."}``, a hash of every
networked entity's quantised transform after that many ticks, and at the end ``{"end": 3000,
"digest": "..."}``. The file is written to ``<path>.part`` and renamed when the server stops.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from engine.core.commands import CommandError, command_from_json
from engine.core.edit_commands import DestroyEntity
from engine.core.errors import DataError
from engine.core.system import ORDER_INPUT, System
from engine.input.input_system import InputSystem
from engine.input.sources import DirectActionSource
from engine.packs.json_text import parse_json, read_text
from netcode.input_layout import InputFrame, InputLayout, owner_fields
from netcode.quantize import TransformSpec
from netcode.replication import Replicator
from netcode.spawning import PlayerFactory, find_player_template
from netcode.tracked_pose import TrackedPose

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.host.runtime import Runtime

log = logging.getLogger("storm.net")
VERSION_KEY = "storm_session"
VERSION = 1
DIGEST_EVERY = 60
KINDS = ("join", "in", "chat", "command", "rpc", "vr", "off", "leave", "digest", "end")


def digest(world: "World", replicator: Replicator) -> str:
    """A hash of every networked entity's id and quantised transform."""
    view = replicator.gather(world.tick_count).view
    h = hashlib.sha256()
    for part in (view.ids, view.pos, view.largest, view.parts):
        h.update(part.astype("<i8").tobytes())
    return h.hexdigest()[:32]


def frame_data(frame: InputFrame) -> dict[str, Any]:
    return {"h": sorted(frame.held), "a": dict(frame.axes), "v": {k: list(v) for k, v in frame.vectors.items()},
            "hd": frame.heading, "o": [list(v) if isinstance(v, tuple) else v for v in frame.owner], "vt": frame.view_tick}


def frame_from(data: Any, layout: InputLayout, where: str) -> InputFrame:
    """An input frame from a recording, checked against the layout's field declarations."""
    if not isinstance(data, dict):
        raise DataError(where, "f", "an input frame object")
    try:
        owner = tuple(spec.declared.type.validate(value) for spec, value in zip(layout.fields, data.get("o", [])))
        if len(owner) != len(layout.fields):
            raise ValueError
        vectors = {str(k): (float(v[0]), float(v[1])) for k, v in data.get("v", {}).items()}
        return InputFrame(frozenset(str(b) for b in data.get("h", [])), {str(k): float(v) for k, v in data.get("a", {}).items()},
                          vectors, float(data.get("hd", 0.0)), owner, float(data.get("vt", 0.0)))
    except Exception:  # noqa: BLE001 - any shape problem is a DataError naming the line
        raise DataError(where, "f", "an input frame with held, axes, vectors, heading and owner values") from None


class SessionRecorder:
    """Writes a recording while a server runs (the server calls ``event``, ``input``, ``tick``)."""

    def __init__(self, path: Path | str, world: "World", world_name: str, config: Any = None) -> None:
        self.path = Path(path)
        self.part = self.path.with_name(self.path.name + ".part")
        self.part.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.part, "w", encoding="utf-8")
        self._replicator = Replicator(world, getattr(config, "transform", None) or TransformSpec())
        self._write({VERSION_KEY: VERSION, "world": world_name, "seed": world.seed, "tick_rate": world.tick_rate,
                     "start": world.tick_count})

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, separators=(",", ":"), allow_nan=False, ensure_ascii=False) + "\n")

    def event(self, tick: int, what: str, player: str, data: Any = None) -> None:
        record: dict[str, Any] = {"t": tick, what: player}
        if what == "join":
            record["entity"] = data
        elif what == "chat":
            record["text"] = data
        elif what in ("command", "rpc"):
            record["json"] = data
        elif what == "vr":
            record["on"] = bool(data)
        self._write(record)

    def input(self, tick: int, player: str, frame: InputFrame) -> None:
        self._write({"t": tick, "in": player, "f": frame_data(frame)})

    def tick(self, world: "World") -> None:
        if world.tick_count % DIGEST_EVERY == 0:
            self._write({"t": world.tick_count, "digest": digest(world, self._replicator)})
            self._file.flush()

    def close(self, world: "World") -> None:
        if self._file.closed:
            return
        self._write({"end": world.tick_count, "digest": digest(world, self._replicator)})
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._replicator.close()
        os.replace(self.part, self.path)


@dataclass
class Recording:
    header: dict[str, Any]
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def end(self) -> int:
        last = self.lines[-1] if self.lines else {}
        return int(last.get("end", last.get("t", self.header["start"])))

    def at(self, kind: str) -> Iterator[dict[str, Any]]:
        return (line for line in self.lines if kind in line)


def is_session_recording(path: Path | str) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(len(VERSION_KEY) + 3).startswith('{"' + VERSION_KEY)
    except (OSError, UnicodeDecodeError):
        return False


def load_recording(path: Path | str) -> Recording:
    """Read a recording; DataError naming the file and line for anything unexpected."""
    source = str(path)
    text = read_text(path)
    rows = [row for row in text.split("\n") if row]
    if not rows:
        raise DataError(source, "line 1", "a session header")
    header = parse_json(rows[0], f"{source}: line 1")
    if not isinstance(header, dict) or header.get(VERSION_KEY) != VERSION:
        raise DataError(source, "line 1", f'a header with "{VERSION_KEY}": {VERSION}')
    for key, kind in (("world", str), ("seed", int), ("tick_rate", (int, float)), ("start", int)):
        if not isinstance(header.get(key), kind) or isinstance(header.get(key), bool):
            raise DataError(source, f"line 1: {key}", f"a {getattr(kind, '__name__', 'number')}")
    lines = []
    previous = header["start"]
    for number, row in enumerate(rows[1:], start=2):
        line = parse_json(row, f"{source}: line {number}")
        if not isinstance(line, dict) or not any(k in line for k in KINDS):
            raise DataError(source, f"line {number}", f"an object with one of {', '.join(KINDS)}")
        tick = line.get("t", line.get("end"))
        if isinstance(tick, bool) or not isinstance(tick, int) or tick < previous:
            raise DataError(source, f"line {number}: t", f"a tick of at least {previous}")
        previous = tick
        lines.append(line)
    return Recording(header, lines)


class ReplayFeedSystem(System):
    """First in each tick of a replayed world: hands it what the recording has before this tick."""

    name = "replay_feed"
    order = ORDER_INPUT - 20

    def __init__(self, replay: "SessionReplay") -> None:
        self.replay = replay

    def update(self, world: "World", dt: float) -> None:
        self.replay.feed()


class SessionReplay:
    """Plays a recording in a World built from the same world file (see the module doc)."""

    def __init__(self, recording: Recording, runtime: "Runtime", profile: str = "server",
                 world_path: str | None = None) -> None:
        from netcode.avatar_server import AvatarPoseSystem
        from netcode.hosting import open_world
        from netcode.server_tick import OwnerInputSystem

        self.recording = recording
        header = recording.header
        self.world = open_world(world_path or header["world"], runtime, profile, seed=header["seed"])
        self.world.tick_rate = float(header["tick_rate"])
        self.input_system: InputSystem = self.world.system(InputSystem)
        template = find_player_template(self.world)
        self.players = PlayerFactory(self.world, template)
        if template:
            self.world.apply(DestroyEntity(template))
        root = self.players.specs[0] if self.players.specs else None
        base_fields = owner_fields([c.create() for c in root.components] if root else [])
        self.layout = InputLayout.from_map(self.input_system.actions.map, base_fields)
        self.tracked_layout = InputLayout.from_map(self.input_system.actions.map,
                                                   base_fields + owner_fields([TrackedPose()]))
        self.world.registry.register(TrackedPose)
        self.layouts: dict[str, InputLayout] = {}       # players in VR: their inputs carry poses
        self.connected: set[str] = set()
        self.entities: dict[str, int] = {}
        self.sources: dict[str, DirectActionSource] = {}
        self.current: dict[str, InputFrame | None] = {}
        self.world.add_system(OwnerInputSystem(lambda: [(self.entities[p], f) for p, f in self.current.items()
                                                        if p in self.entities], lambda: self.tracked_layout))
        self.world.add_system(AvatarPoseSystem(lambda: {self.entities[p]: (p, p) for p in self.connected
                                                        if p in self.entities}))
        self.world.add_system(ReplayFeedSystem(self))
        self.replicator = Replicator(self.world, TransformSpec())
        self.world.tick_count = int(header["start"])
        self._index = 0
        self.mismatches: list[tuple[int, str, str]] = []
        self.transcript: list[str] = []

    @property
    def tick(self) -> int:
        return self.world.tick_count

    @property
    def finished(self) -> bool:
        return self.tick >= self.recording.end

    def step(self) -> bool:
        """Run one tick (with everything recorded before it); False at the end."""
        if self.finished:
            return False
        self.world.tick(1.0 / self.world.tick_rate)
        return True

    def feed(self) -> None:
        """At the start of a tick: what was recorded before it (the feed system calls this)."""
        lines, world = self.recording.lines, self.world
        while self._index < len(lines) and lines[self._index].get("t", lines[self._index].get("end")) <= self.tick:
            line = lines[self._index]
            self._index += 1
            if "digest" in line:
                got = digest(world, self.replicator)
                if got != line["digest"]:
                    self.mismatches.append((self.tick, line["digest"], got))
                continue
            self._apply(line)

    def _apply(self, line: dict[str, Any]) -> None:
        world, where = self.world, f"recording at tick {line.get('t')}"
        if "join" in line:
            player = str(line["join"])
            eid = self.players.spawn(world, player)
            if eid != line.get("entity"):
                log.warning("replay: %s got entity %d, the session gave %s", player, eid, line.get("entity"))
            self.entities[player] = eid
            self.sources[player] = source = DirectActionSource()
            self.input_system.add_player(player, source)
            self.current[player] = None
            self.connected.add(player)
            self.transcript.append(f"{self._clock()} {player} joined")
        elif "vr" in line:
            self._vr(str(line["vr"]), bool(line.get("on")))
        elif "in" in line:
            player = str(line["in"])
            frame = frame_from(line.get("f"), self.layouts.get(player, self.layout), where)
            self.current[player] = frame
            self.connected.add(player)
            if player in self.sources:
                self.sources[player].set_frame(frame.actions())
        elif "off" in line:
            player = str(line["off"])
            self.current[player] = None
            self.connected.discard(player)
            if player in self.sources:
                self.sources[player].clear()
            self.transcript.append(f"{self._clock()} {player} disconnected")
        elif "leave" in line:
            player = str(line["leave"])
            eid = self.entities.pop(player, 0)
            self.current.pop(player, None)
            self.connected.discard(player)
            self.input_system.remove_player(player)
            if world.exists(eid):
                world.apply(DestroyEntity(eid))
            self.transcript.append(f"{self._clock()} {player} left")
        elif "chat" in line:
            self.transcript.append(f"{self._clock()} {line['chat']}: {line.get('text', '')}")
        elif "command" in line:
            try:
                world.apply(command_from_json(line.get("json"), where))
            except CommandError as exc:
                log.warning("replay: %s", exc)
            self.transcript.append(f"{self._clock()} {line['command']} ran {str(line.get('json'))[:120]}")
        elif "rpc" in line:
            from netcode.server_tick import call_rpc

            data = line.get("json")
            if isinstance(data, dict) and isinstance(data.get("args"), dict):
                call_rpc(world, str(line["rpc"]), data)

    def _vr(self, player: str, on: bool) -> None:
        """A player entered VR (their player gets a TrackedPose, as on the server) or left it."""
        eid = self.entities.get(player, 0)
        pose = self.world.get(eid, TrackedPose) if self.world.exists(eid) else None
        if on and pose is None and self.world.exists(eid):
            self.world.add(eid, TrackedPose())
        elif not on and pose is not None:
            self.world.set_field(eid, pose, "tracked", 0, validated=True)
        self.layouts[player] = self.tracked_layout if on else self.layout
        self.transcript.append(f"{self._clock()} {player} {'entered' if on else 'left'} VR")

    def _clock(self) -> str:
        seconds = (self.tick - self.recording.header["start"]) / self.world.tick_rate
        return f"[{int(seconds // 60):02d}:{seconds % 60:05.2f}]"

    def run(self, until: int | None = None) -> int:
        """Run to tick ``until`` (or the end); returns the tick reached."""
        stop = self.recording.end if until is None else min(until, self.recording.end)
        while self.tick < stop and self.step():
            pass
        if self.tick >= self.recording.end:
            final = next((line for line in reversed(self.recording.lines) if "end" in line), None)
            if final is not None and final.get("digest") != digest(self.world, self.replicator):
                self.mismatches.append((self.tick, final.get("digest", ""), digest(self.world, self.replicator)))
        return self.tick


def transcript(recording: Recording) -> list[str]:
    """The session as readable lines (joins, chat, commands, leaves, the end), without running it."""
    rate = float(recording.header["tick_rate"])
    start = recording.header["start"]
    out = [f"session of {recording.header['world']} (seed {recording.header['seed']}, {rate:g} ticks/s)"]
    for line in recording.lines:
        tick = line.get("t", line.get("end", start))
        seconds = (tick - start) / rate
        stamp = f"[{int(seconds // 60):02d}:{seconds % 60:05.2f}]"
        if "join" in line:
            out.append(f"{stamp} {line['join']} joined (entity {line.get('entity')})")
        elif "chat" in line:
            out.append(f"{stamp} {line['chat']}: {line.get('text', '')}")
        elif "command" in line:
            data = line.get("json") if isinstance(line.get("json"), dict) else {}
            out.append(f"{stamp} {line['command']} ran {data.get('command', '?')} on entity {data.get('entity', '?')}")
        elif "rpc" in line:
            out.append(f"{stamp} {line['rpc']} called {line.get('json', {}).get('method', '?')}")
        elif "vr" in line:
            out.append(f"{stamp} {line['vr']} {'entered' if line.get('on') else 'left'} VR")
        elif "off" in line:
            out.append(f"{stamp} {line['off']} disconnected")
        elif "leave" in line:
            out.append(f"{stamp} {line['leave']} left")
        elif "end" in line:
            out.append(f"{stamp} end of session ({tick - start} ticks)")
    return out
