"""Benchmark: Glenn Fiedler's snapshot compression scenario, through Storm's snapshot codec.

901 cubes in Bullet (Storm's PhysicsSystem) at 60 Hz: 900 small cubes resting in a 30 x 30 grid
and one large cube pushed around a loop through them, waking the cubes it hits. Every tick the
server encodes a snapshot of all 901 transforms against the last baseline the client
acknowledged, positions predicted from the acknowledged view before it (Fiedler's precision:
1/512 m positions inside [-256, 256) x [-256, 256) x [0, 32), smallest-three quaternions of 9 bits
per part); 5% of snapshots and 5% of acknowledgements are lost, both ways take ``--latency``
ticks, and acknowledgements that have arrived are applied before the tick's snapshot (as the
server reads its input first). The client decodes each snapshot it gets against its copy of the
baseline; the errors are measured between what it decoded and the true float state. A packet's
size is the whole SNAPSHOT message (its 21-byte header included).

Fiedler's own reference result (his article's challenge data, his code): 531.95 bytes/packet =
255.34 kbit/s, from 17.37 Mbit/s uncompressed (321 bits per cube). The scenario is rebuilt here
in Bullet, so the motion is not his recording: the comparison is of like scenes, not of one data
set. The peer in the same run is his article's bit-packed encoding counted on the very same
packets and baselines (tools/bench/fiedler_scheme.py, the same message header), so the codecs
meet on one data set there. Quantised but not delta-encoded (79 bits a cube) is computed too.

Usage::

    .venv/bin/python -m tools.bench.snapshots [--seconds 20] [--loss 0.05] [--latency 3] [--seed 1]

stdout: one JSON line per phase, the last the summary with ``kbps``, ``fiedler_reference_kbps``,
``max_position_error_m``, ``max_rotation_error_deg``, ``fiedler_scheme_same_packets_kbps``,
``kbps_with_baseline`` (only the packets that had a baseline: the first ones, sent before any
acknowledgement arrived, left out) and the bits per changed cube of both.
"""
from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

from engine.core.world import World  # noqa: E402
from engine.physics import Collider, PhysicsSystem, RigidBody  # noqa: E402
from netcode.field_schema import FieldSchema  # noqa: E402
from netcode.messages import Snapshot, encode_snapshot  # noqa: E402
from netcode.quantize import (  # noqa: E402
    TransformSpec,
    angle_between,
    positions_of,
    quantise_positions,
    quantise_quats,
    quats_of,
)
from netcode.session import previous_for  # noqa: E402
from netcode.snapshot_codec import View, decode, encode, prediction_spacing  # noqa: E402
from tools.bench import fiedler_scheme  # noqa: E402
from tools.bench.common import emit, machine_info, progress  # noqa: E402

FIEDLER_REFERENCE_KBPS = 255.34
FIEDLER_REFERENCE_BYTES = 531.95
FIEDLER_UNCOMPRESSED_BITS_PER_CUBE = 321
GRID = 30
CUBE = 1.0
SPACING = 1.5
BIG = 4.0
HISTORY = 64


def build_scene(seed: int) -> tuple[World, PhysicsSystem, list[int], int]:
    world = World(seed=seed, tick_rate=60.0, name="fiedler cubes")
    physics = world.add_system(PhysicsSystem())
    ground = world.create_entity("ground")
    world.node(ground).setPos(0, 0, -0.5)
    world.add(ground, Collider(size=(400.0, 400.0, 1.0)))
    cubes = []
    half = (GRID - 1) * SPACING / 2
    for i in range(GRID * GRID):
        eid = world.create_entity(f"cube{i}")
        row, col = divmod(i, GRID)
        world.node(eid).setPos(col * SPACING - half, row * SPACING - half, CUBE / 2)
        world.add(eid, RigidBody(mass=1.0, friction=0.6))
        world.add(eid, Collider(size=(CUBE, CUBE, CUBE)))
        cubes.append(eid)
    big = world.create_entity("pushed cube")
    world.node(big).setPos(-half - 8.0, 0.0, BIG / 2)
    world.add(big, RigidBody(mass=40.0, friction=0.6))
    world.add(big, Collider(size=(BIG, BIG, BIG)))
    return world, physics, [big, *cubes], big


def push(world: World, physics: PhysicsSystem, big: int, tick: int) -> None:
    """Drive the big cube along a figure-eight through the grid (a force towards a moving target)."""
    t = tick / 60.0
    radius = GRID * SPACING * 0.42
    target = (radius * math.sin(t * 0.35), radius * math.sin(t * 0.7) * 0.8)
    node = world.node(big)
    pos = node.getPos(world.root)
    dx, dy = target[0] - pos.x, target[1] - pos.y
    dist = math.hypot(dx, dy) or 1.0
    speed = min(9.0, dist * 2.0)
    vel = physics.velocity(big)
    want = (dx / dist * speed, dy / dist * speed)
    physics.apply_impulse(big, ((want[0] - vel[0]) * 40.0 * 0.08, (want[1] - vel[1]) * 40.0 * 0.08, 0.0))


def gather(world: World, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    root = world.root
    pos = np.empty((len(ids), 3))
    quat = np.empty((len(ids), 4))
    for row, eid in enumerate(ids):
        node = world.node(eid)
        p, q = node.getPos(root), node.getQuat(root)
        pos[row] = (p.x, p.y, p.z)
        quat[row] = (q.getR(), q.getI(), q.getJ(), q.getK())
    return pos, quat


def run(seconds: float, loss: float, latency: int, seed: int, budget: int | None,
        predict: bool = True) -> dict[str, object]:
    world, physics, ids, big = build_scene(seed)
    spec = TransformSpec.fiedler()
    schema = FieldSchema()
    rng = random.Random(seed)
    id_array = np.asarray(sorted(ids), dtype=np.int64)
    order = np.argsort(np.asarray(ids))
    ticks = int(seconds * 60)
    sent_views: dict[int, View] = {}       # server: what the client holds if it got packet t
    client_views: dict[int, View] = {}     # client: what it decoded
    in_flight: list[tuple[int, int, bytes, int]] = []   # (arrives at, tick, payload, baseline)
    acks_in_flight: list[tuple[int, int]] = []          # (arrives at, acked tick)
    server_ack = 0
    acked: list[int] = []                  # acknowledged ticks, oldest first
    history_truth: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    bytes_sent: list[int] = []
    peer_bytes: list[int] = []             # Fiedler's bit-packed encoding of the same packets, same header
    with_baseline: list[bool] = []
    moving: list[int] = []
    max_pos_err = 0.0
    max_rot_err = 0.0
    encode_s = decode_s = sim_s = 0.0
    received = lost = 0
    priority = np.ones(len(id_array))
    for _ in range(30):                    # let the grid settle and fall asleep
        world.tick()
    for tick in range(1, ticks + 1):
        start = time.perf_counter()
        push(world, physics, big, tick)
        world.tick()
        pos, quat = gather(world, ids)
        pos, quat = pos[order], quat[order]
        sim_s += time.perf_counter() - start
        largest, parts = quantise_quats(quat, spec)
        current = View(id_array, quantise_positions(pos, spec), largest, parts)
        # acknowledgements that have arrived by now (a server reads its input before it sends)
        for _arrives, acked_tick in [a for a in acks_in_flight if a[0] <= tick]:
            server_ack = max(server_ack, acked_tick)
            acked.append(acked_tick)
            acked = sorted(set(acked))[-HISTORY:]
        acks_in_flight = [a for a in acks_in_flight if a[0] > tick]
        baseline_tick = server_ack if server_ack in sent_views else 0
        previous_tick = previous_for(baseline_tick, acked, sent_views) if predict and baseline_tick else 0
        start = time.perf_counter()
        encoded = encode(current, sent_views.get(baseline_tick), spec, schema,
                         priority=priority if budget else None, budget_bits=budget * 8 if budget else None,
                         previous=sent_views.get(previous_tick) if previous_tick else None,
                         spacing=(tick - baseline_tick, baseline_tick - previous_tick) if previous_tick else (0, 0))
        encode_s += time.perf_counter() - start
        message = encode_snapshot(Snapshot(tick, baseline_tick, 0, tick / 60.0, encoded.payload))
        bytes_sent.append(len(message))     # the whole SNAPSHOT message: kind, ticks, input ack, time, payload
        header = len(message) - len(encoded.payload)
        peer_bytes.append(header + (fiedler_scheme.packet_bits(current, sent_views.get(baseline_tick)) + 7) // 8)
        with_baseline.append(bool(baseline_tick))
        moving.append(encoded.sent)
        sent_views[tick] = encoded.view
        sent_views.pop(tick - HISTORY, None)
        if rng.random() >= loss:
            in_flight.append((tick + latency, tick, encoded.payload, baseline_tick))
        else:
            lost += 1
        truth_pos, truth_quat = pos, quat
        history_truth[tick] = (truth_pos, truth_quat)
        # deliveries to the client this tick
        arrived = [p for p in in_flight if p[0] <= tick]
        in_flight = [p for p in in_flight if p[0] > tick]
        for _, sent_tick, payload, base_tick in arrived:
            base = client_views.get(base_tick) if base_tick else None
            if base_tick and base is None:
                raise AssertionError(f"the client lacks baseline {base_tick}: the server used an unacknowledged one")
            ahead, behind = prediction_spacing(payload)
            previous = client_views[base_tick - behind] if ahead else None
            start = time.perf_counter()
            view, _ = decode(payload, base, spec, schema, previous)
            decode_s += time.perf_counter() - start
            client_views[sent_tick] = view
            client_views.pop(sent_tick - 2 * HISTORY, None)
            received += 1
            if sent_tick == tick - latency:
                got_pos = positions_of(view.pos, spec)
                got_quat = quats_of(view.largest, view.parts, spec)
                if sent_tick == tick:  # latency 0: compare with this tick's truth
                    ref_pos, ref_quat = truth_pos, truth_quat
                else:
                    ref_pos, ref_quat = history_truth[sent_tick]
                max_pos_err = max(max_pos_err, float(np.linalg.norm(got_pos - ref_pos, axis=1).max()))
                max_rot_err = max(max_rot_err, float(angle_between(got_quat, ref_quat).max()))
            if rng.random() >= loss:
                acks_in_flight.append((tick + latency, sent_tick))
        history_truth.pop(tick - 4 * HISTORY, None)
        if tick % 300 == 0:
            progress(f"tick {tick}/{ticks}: {np.mean(bytes_sent[-300:]):.1f} bytes/packet, "
                     f"{np.mean(moving[-300:]):.0f} cubes changed per packet")
    world.close()
    mean_bytes = float(np.mean(bytes_sent))
    kbps = mean_bytes * 8 * 60 / 1000
    peer_kbps = float(np.mean(peer_bytes)) * 8 * 60 / 1000
    warm = np.asarray(with_baseline)
    steady_kbps = float(np.mean(np.asarray(bytes_sent)[warm])) * 8 * 60 / 1000
    changed = max(float(np.mean(np.asarray(moving)[warm])), 1.0)
    header = len(encode_snapshot(Snapshot(1, 1, 0, 0.0, b"")))
    cubes = len(ids)
    quantised_kbps = cubes * (sum(spec.pos_bits) + 2 + 3 * spec.quat_bits) * 60 / 1000
    return {
        "kbps": round(kbps, 2),
        "fiedler_reference_kbps": FIEDLER_REFERENCE_KBPS,
        "ratio_to_fiedler": round(kbps / FIEDLER_REFERENCE_KBPS, 3),
        "under_fiedler_percent": round(100.0 * (1.0 - kbps / FIEDLER_REFERENCE_KBPS), 1),
        "kbps_with_baseline": round(steady_kbps, 2),
        "fiedler_scheme_same_packets_kbps": round(peer_kbps, 2),
        "ratio_to_fiedler_scheme_same_packets": round(kbps / peer_kbps, 3),
        "payload_bits_per_changed_cube": round((float(np.mean(np.asarray(bytes_sent)[warm])) - header) * 8 / changed, 2),
        "fiedler_scheme_bits_per_changed_cube": round((float(np.mean(np.asarray(peer_bytes)[warm])) - header) * 8 / changed, 2),
        "bytes_per_packet": round(mean_bytes, 2),
        "fiedler_reference_bytes_per_packet": FIEDLER_REFERENCE_BYTES,
        "max_position_error_m": max_pos_err,
        "max_rotation_error_deg": round(max_rot_err, 4),
        "precision": {"position_step_m": spec.step, "quaternion_bits_per_part": spec.quat_bits,
                      "bounds": [list(spec.low), list(spec.high)]},
        "uncompressed_kbps": round(cubes * FIEDLER_UNCOMPRESSED_BITS_PER_CUBE * 60 / 1000, 1),
        "quantised_no_delta_kbps": round(quantised_kbps, 1),
        "cubes": cubes, "ticks": ticks, "packet_loss": loss, "ack_loss": loss, "latency_ticks": latency,
        "packets_lost": lost, "packets_received": received,
        "changed_cubes_per_packet": round(float(np.mean(moving)), 1),
        "encode_ms": round(encode_s / ticks * 1000, 3), "decode_ms": round(decode_s / max(received, 1) * 1000, 3),
        "simulate_ms": round(sim_s / ticks * 1000, 3), "budget_bytes": budget, "prediction": predict,
        "machine": machine_info(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="simulated seconds (60 snapshots each)")
    parser.add_argument("--loss", type=float, default=0.05, help="fraction of snapshots and of acks lost")
    parser.add_argument("--latency", type=int, default=3, help="ticks each way (3 = 50 ms)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=int, default=None, help="packet budget in bytes (priority accumulation)")
    parser.add_argument("--no-prediction", action="store_true", help="deltas against the baseline itself")
    args = parser.parse_args(argv)
    progress(f"Fiedler's scenario: 901 cubes, {args.seconds:g} s at 60 Hz, {args.loss:.0%} loss")
    emit(run(args.seconds, args.loss, args.latency, args.seed, args.budget, not args.no_prediction))
    return 0


if __name__ == "__main__":
    sys.exit(main())
