"""The snapshot codec: quantisation error bounds, exact delta round trips against baselines (what
the server believes a client holds is what the client decodes), budgets, priorities, and
hostile payloads that only ever raise ProtocolError."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netcode.bits import BitReader, BitWriter
from netcode.field_schema import FieldEntry, FieldSchema
from netcode.quantize import (
    TransformSpec,
    angle_between,
    positions_of,
    quantise_positions,
    quantise_quats,
    quats_of,
)
from netcode.snapshot_codec import View, decode, encode
from netcode.wire import ProtocolError

SPEC = TransformSpec.fiedler()
SCHEMA = FieldSchema([FieldEntry("Door", "open", "bool"), FieldEntry("Thing", "speed", "float", 0.01),
                      FieldEntry("Thing", "name", "text")])


def random_quats(rng: np.random.Generator, n: int) -> np.ndarray:
    q = rng.normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def make_view(rng: np.random.Generator, ids: np.ndarray, pos: np.ndarray | None = None,
              quats: np.ndarray | None = None) -> View:
    n = len(ids)
    pos = rng.uniform((-200, -200, 0), (200, 200, 30), size=(n, 3)) if pos is None else pos
    quats = random_quats(rng, n) if quats is None else quats
    largest, parts = quantise_quats(quats, SPEC)
    return View(np.asarray(ids, np.int64), quantise_positions(pos, SPEC), largest, parts)


def same(a: View, b: View) -> bool:
    return (np.array_equal(a.ids, b.ids) and np.array_equal(a.pos, b.pos) and np.array_equal(a.largest, b.largest)
            and np.array_equal(a.parts, b.parts) and a.fields == b.fields)


def test_bits_round_trip() -> None:
    out = BitWriter()
    out.write(np.array([5, 0, 1023, 1]), np.array([3, 0, 10, 1]))
    out.write(7, 32)
    reader = BitReader(out.bytes())
    assert reader.read(np.array([3, 0, 10, 1])).tolist() == [5, 0, 1023, 1]
    assert reader.read_one(32) == 7
    with pytest.raises(ProtocolError):
        reader.read(8, 1)
    with pytest.raises(ValueError):
        BitWriter().write(8, 3)


def test_quantisation_errors_stay_within_the_precision() -> None:
    rng = np.random.default_rng(1)
    pos = rng.uniform((-256, -256, 0), (255.9, 255.9, 31.9), size=(5000, 3))
    back = positions_of(quantise_positions(pos, SPEC), SPEC)
    assert np.abs(back - pos).max() <= SPEC.max_position_error + 1e-12
    quats = random_quats(rng, 5000)
    angles = angle_between(quats, quats_of(*quantise_quats(quats, SPEC), SPEC))
    assert angles.max() < 0.5  # degrees at 9 bits per smallest-three part
    assert sum(SPEC.pos_bits) + 2 + 3 * SPEC.quat_bits == 79  # Fiedler's 80-bit cube less his interacting bit


def test_delta_against_the_baseline_is_exact_and_small() -> None:
    rng = np.random.default_rng(2)
    ids = np.arange(1, 902)
    first = make_view(rng, ids)
    first.fields = {5: {1: True, 2: 150}, 6: {3: "crate"}}
    full = encode(first, None, SPEC, SCHEMA)
    got, updates = decode(full.payload, None, SPEC, SCHEMA)
    assert same(got, full.view) and same(got, first)
    assert len(updates) == 3
    # a few entities move a little, one is removed, one is new, one field changes
    pos = positions_of(first.pos, SPEC)
    pos[10:20] += 0.01
    second = View(ids, quantise_positions(pos, SPEC), first.largest, first.parts)
    keep = second.ids != 400
    second = View(np.append(second.ids[keep], 5000), np.vstack([second.pos[keep], [[1, 2, 3]]]),
                  np.append(second.largest[keep], 0), np.vstack([second.parts[keep], [[1, 2, 3]]]),
                  {5: {1: False, 2: 150}, 6: {3: "crate"}})
    delta = encode(second, got, SPEC, SCHEMA)
    again, updates = decode(delta.payload, got, SPEC, SCHEMA)
    assert same(again, delta.view) and same(again, second)
    assert updates == [(5, 1, False)]
    # ten small moves, a removal, a new entity, a field: the baseline's statistics come from a packet of
    # new entities only, so these symbols are coded under the prior (netcode/snapshot_model.py)
    assert delta.sent == 11 and len(delta.payload) < 70, len(delta.payload)
    assert len(full.payload) > 8000               # 901 scattered entities: absolute cells


def test_many_changed_entities_use_changed_bits_few_use_relative_ids() -> None:
    rng = np.random.default_rng(3)
    ids = np.arange(1, 902)
    base = make_view(rng, ids)
    pos = positions_of(base.pos, SPEC)
    for moved in (3, 500):
        p = pos.copy()
        p[rng.choice(901, moved, replace=False)] += 0.05
        cur = View(ids, quantise_positions(p, SPEC), base.largest, base.parts)
        enc = encode(cur, base, SPEC, SCHEMA)
        assert same(decode(enc.payload, base, SPEC, SCHEMA)[0], cur)
        assert enc.sent == moved


def test_budget_sends_the_highest_priority_first() -> None:
    rng = np.random.default_rng(4)
    ids = np.arange(1, 902)
    base = make_view(rng, ids)
    cur = make_view(rng, ids)  # everything changed, absolutely
    priority = np.arange(901, dtype=float)
    enc = encode(cur, base, SPEC, SCHEMA, priority=priority, budget_bits=8 * 600)
    assert len(enc.payload) <= 600 + 8
    assert 0 < enc.sent < 901
    view, _ = decode(enc.payload, base, SPEC, SCHEMA)
    assert same(view, enc.view)
    sent_rows = np.flatnonzero(np.any(view.pos != base.pos, axis=1))
    assert sent_rows.min() >= 901 - enc.sent - 5  # the top priorities (the last rows) went
    kept = np.setdiff1d(np.arange(901), sent_rows)
    assert np.array_equal(view.pos[kept], base.pos[kept])  # the rest keep their baseline values


def test_payloads_against_the_wrong_baseline_or_mangled_only_raise_protocol_errors() -> None:
    rng = np.random.default_rng(5)
    ids = np.arange(1, 60)
    base = make_view(rng, ids)
    cur = make_view(rng, ids)
    cur.fields = {3: {2: 7}}
    payload = encode(cur, base, SPEC, SCHEMA).payload
    for trial in range(400):
        data = bytearray(payload)
        for _ in range(rng.integers(1, 6)):
            data[rng.integers(len(data))] = rng.integers(256)
        if trial % 3 == 0:
            data = data[: rng.integers(len(data))]
        try:
            decode(bytes(data), base if trial % 2 else None, SPEC, SCHEMA)
        except ProtocolError:
            pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 3000), min_size=0, max_size=80, unique=True),
       st.lists(st.integers(1, 3000), min_size=0, max_size=80, unique=True),
       st.integers(0, 2**32 - 1), st.booleans())
def test_any_two_views_round_trip(first_ids: list[int], second_ids: list[int], seed: int, nudge: bool) -> None:
    rng = np.random.default_rng(seed)
    a = make_view(rng, np.sort(np.array(first_ids, dtype=np.int64)))
    b = make_view(rng, np.sort(np.array(second_ids, dtype=np.int64)))
    if nudge and len(a) and len(b):
        common = np.intersect1d(a.ids, b.ids)
        b.pos[np.isin(b.ids, common)] = a.pos[np.isin(a.ids, common)] + rng.integers(-3, 4, size=(len(common), 3))
        b.pos = np.clip(b.pos, 0, None)
    enc = encode(b, a, SPEC, SCHEMA)
    got, _ = decode(enc.payload, a, SPEC, SCHEMA)
    assert same(got, b)


def test_shared_encoding_gives_every_client_the_bytes_it_would_get_alone() -> None:
    """The server shares transform sections and field pieces between clients (TransformCache):
    each client's payload must be byte for byte what encoding it alone gives, and decode to the
    view the server keeps for it, over ticks where clients acknowledge different snapshots."""
    from netcode.snapshot_codec import TransformCache

    rng = np.random.default_rng(7)
    ids = np.arange(1, 41, dtype=np.int64)
    pos = rng.uniform((-50, -50, 0), (50, 50, 10), size=(40, 3))
    quats = random_quats(rng, 40)
    cache = TransformCache()
    server_side: list[dict[int, View]] = [{} for _ in range(4)]   # per client: tick -> view it will hold
    client_side: list[dict[int, View]] = [{} for _ in range(4)]
    acked = [0, 0, 0, 0]
    for tick in range(1, 30):
        moving = rng.random(40) < 0.3
        pos[moving] += rng.normal(0, 0.2, size=(int(moving.sum()), 3))
        current = make_view(rng, ids, pos, quats)
        current.fields = {int(e): {1: (tick // 7) % 2 == 0, 2: int(rng.integers(0, 3))} for e in ids[:10]}
        cache.start(tick)
        for c in range(4):
            base = server_side[c].get(acked[c])
            shared = encode(current, base, SPEC, SCHEMA, cache=cache)
            alone = encode(current, base, SPEC, SCHEMA)
            assert shared.payload == alone.payload
            view, _ = decode(shared.payload, client_side[c].get(acked[c]), SPEC, SCHEMA)
            assert same(view, shared.view) and same(view, alone.view)
            server_side[c][tick] = shared.view
            client_side[c][tick] = view
            if rng.random() < [0.9, 0.9, 0.5, 0.2][c]:           # clients acknowledge at different rates
                acked[c] = tick
    assert cache.hits > 10                                        # clients with the same baseline did share
