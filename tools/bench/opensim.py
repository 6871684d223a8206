"""Benchmark: Storm as an OpenSimulator client.

Three figures, each printed as a JSON line; the last line is the summary:

- ``object_updates_per_s``: full ObjectUpdate blocks decoded per second on one core (datagram
  to ``ObjectState``: header, zero-decoding, the template codec, the object block), from the
  prim updates of the recorded session in tests/data/opensim/ (goal >= 20,000). Terse updates
  are timed the same way (``terse_updates_per_s``). No other Python client of the protocol
  exists to put beside it.
- ``prims_1k_frame_ms``: the wall time of one Storm frame (tick + draw, offscreen) of a region
  with 1,000 prims mirrored as entities (each drawing the mesh of its prim shape, one mesh a
  shape: boxes, cylinders and spheres), beside Panda3D drawing the very same scene alone
  (``raw_panda3d_draw_ms``), as tools/bench/demo.py does.
- ``login_to_first_frame_s``: from the XML-RPC login to the first frame drawn with the avatar
  and the whole terrain in it, against the vendored OpenSimulator (built and started as the
  tests do); null, with ``server_skipped`` saying why, where it cannot run (``--no-server``).

    .venv/bin/python -m tools.bench.opensim [--size 1280x720] [--frames 120] [--no-server]
"""
from __future__ import annotations

import argparse
import statistics
import struct
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tools.bench.common import REPO_ROOT, emit, machine_info, progress

DATA = REPO_ROOT / "tests" / "data" / "opensim" / "session.lludp"


def recorded() -> list[bytes]:
    data = DATA.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        (size,) = struct.unpack_from("<I", data, pos)
        out.append(data[pos + 4:pos + 4 + size])
        pos += 4 + size
    return out


def decode_rates(seconds: float = 2.0) -> dict[str, Any]:
    from netcode.opensim.messages import MessageCodec
    from netcode.opensim.objects import from_full, from_terse
    from netcode.opensim.packet import decode_packet

    codec = MessageCodec()
    full, terse = [], []
    for wire in recorded():
        name = codec.decode(decode_packet(wire).body).name
        if name == "ObjectUpdate":
            full.append(wire)
        elif name == "ImprovedTerseObjectUpdate":
            terse.append(wire)

    def rate(packets: list[bytes], read: Any) -> float:
        count, started = 0, time.process_time()
        while time.process_time() - started < seconds:
            for wire in packets:
                message = codec.decode(decode_packet(wire).body)
                for block in message.blocks["ObjectData"]:
                    read(block)
                    count += 1
        return count / (time.process_time() - started)

    return {"object_updates_per_s": round(rate(full, from_full)),
            "terse_updates_per_s": round(rate(terse, lambda b: from_terse(b["Data"]))),
            "decode_goal_met": None}


def _reply() -> Any:
    from netcode.opensim.login import LoginReply

    return LoginReply(uuid.UUID(int=0xAA), uuid.uuid4(), uuid.uuid4(), 1, "127.0.0.1", 9000, "", 256000, 256000,
                      "Bench", "Visitor", "")


def region_with_prims(runtime: Any, count: int) -> tuple[Any, Any]:
    """A World mirroring a region of ``count`` prims (boxes, cylinders and spheres on a grid)."""
    from netcode.opensim.messages import Message, MessageCodec
    from netcode.opensim.region import RegionSession, RegionSystem
    from netcode.opensim.region_world import RegionObject

    runtime.add_component_type(RegionObject)
    world = runtime.new_world(name="bench region")
    session = RegionSession(world, _reply(), lambda *args: None)
    world.add_system(RegionSystem(session))
    codec = MessageCodec()
    shapes = ((16, 1), (16, 0), (32, 5))
    side = int(count ** 0.5) + 1
    for index in range(count):
        path, profile = shapes[index % 3]
        x, y = 20 + (index % side) * 216 / side, 20 + (index // side) * 216 / side
        motion = struct.pack("<3f", x, y, 22.0) + bytes(48)
        block = {"ID": 1000 + index, "FullID": uuid.uuid4(), "PCode": 9, "Scale": (1.5, 1.5, 1.5), "PathCurve": path,
                 "ProfileCurve": profile, "PathScaleX": 100, "PathScaleY": 100, "ObjectData": motion,
                 "TextureEntry": bytes(16) + b"\x00" + bytes((index % 200, 60, 120, 0))}
        session.receive(codec.decode(codec.encode(Message("ObjectUpdate", {
            "RegionData": [{"RegionHandle": 1, "TimeDilation": 0}], "ObjectData": [block]}))))
    session.heights.heights[:] = 21.0
    session.heights.received.update((x, y) for x in range(16) for y in range(16))
    session.terrain_dirty = True
    world.tick(1 / 60)
    return world, session


def prims_frame(app: Any, count: int, frames: int, warmup: int) -> dict[str, Any]:
    from engine.core.edit_commands import CreateEntity
    from engine.host.runtime import create_runtime

    world, session = region_with_prims(create_runtime(), count)
    mirrored = len(session.mirror.entities)
    world.apply(CreateEntity.new("sun", 0, {"Light": {"kind": "directional", "intensity": 2.5}},
                                 {"hpr": [30.0, -50.0, 0.0]}))
    world.apply(CreateEntity.new("camera", 0, {"Camera": {"far": 2000.0}}, {"pos": [128.0, -60.0, 90.0],
                                                                            "hpr": [0.0, -30.0, 0.0]}))
    app.load(world)
    for _ in range(warmup):
        app.step(1 / 60)
    storm, draw = [], []
    for _ in range(frames):
        started = time.perf_counter()
        app.step(1 / 60)
        storm.append(time.perf_counter() - started)
        started = time.perf_counter()
        app.base.taskMgr.step()
        draw.append(time.perf_counter() - started)
    session.close()
    storm_ms, draw_ms = statistics.median(storm) * 1000, statistics.median(draw) * 1000
    return {"prims": count, "mirrored": mirrored, "prims_1k_frame_ms": round(storm_ms, 3),
            "raw_panda3d_draw_ms": round(draw_ms, 3), "ratio_vs_raw_draw": round(storm_ms / draw_ms, 3) if draw_ms else None}


def login_to_first_frame(app: Any) -> dict[str, Any]:
    sys.path.insert(0, str(REPO_ROOT))
    from engine.host.runtime import create_runtime
    from netcode.opensim.visit import Visit
    from tests.opensim_helpers import FIRST, LAST, PASSWORD, SCRIPT, OpenSimServer, ensure_server_build, find_tarball

    build = ensure_server_build()
    tarball = find_tarball()
    assert tarball is not None
    with tempfile.TemporaryDirectory(prefix="storm-bench-opensim-") as work:
        server = OpenSimServer.start(build, tarball.parent / SCRIPT, Path(work))
        try:
            started = time.perf_counter()
            trip = Visit.start(server.login_uri, FIRST, LAST, PASSWORD, create_runtime())
            session = trip.session
            ready = trip.tick_until(lambda: session.mirror.local_avatar != 0 and session.heights.complete
                                    and session.terrain.entity != 0 and not session.terrain_dirty, 60)
            app.load(trip.world)
            app.step(1 / 60)
            elapsed = time.perf_counter() - started
            trip.close()
        finally:
            server.stop()
    return {"login_to_first_frame_s": round(elapsed, 3) if ready else None, "login_ready": ready}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1280x720", help="offscreen buffer size WxH (default %(default)s)")
    parser.add_argument("--frames", type=int, default=120, help="timed frames of the 1k-prim region")
    parser.add_argument("--warmup", type=int, default=30, help="untimed frames first")
    parser.add_argument("--prims", type=int, default=1000, help="prims in the region (default %(default)s)")
    parser.add_argument("--no-server", action="store_true", help="skip the login figure (no OpenSimulator here)")
    args = parser.parse_args(argv)
    from engine.host.app import App

    progress("decoding the recorded object updates (one core)")
    summary: dict[str, Any] = {"benchmark": "opensim"}
    summary.update(decode_rates())
    summary["decode_goal_met"] = summary["object_updates_per_s"] >= 20000
    emit({"part": "decode", **summary})
    width, height = (int(v) for v in args.size.lower().split("x"))
    app = App("offscreen", size=(width, height))
    if app.mode != "offscreen":
        raise SystemExit("no offscreen display here (EGL): nothing to draw")
    gsg = app.base.win.getGsg()
    summary["renderer"] = f"{gsg.getDriverRenderer()} ({gsg.getDriverVersion()})"
    summary["size"] = args.size
    progress(f"{args.prims} prims at {args.size} on {summary['renderer']}")
    frame = prims_frame(app, args.prims, args.frames, args.warmup)
    emit({"part": "prims", **frame})
    summary.update(frame)
    summary["login_to_first_frame_s"] = None
    if args.no_server:
        summary["server_skipped"] = "--no-server"
    else:
        progress("login to the first frame against the vendored OpenSimulator")
        try:
            summary.update(login_to_first_frame(app))
        except Exception as exc:  # no vendored server or Mono here: the figure is left out, with the reason
            summary["server_skipped"] = f"{type(exc).__name__}: {exc}"[:300]
    app.close()
    summary["machine"] = machine_info()
    emit(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
