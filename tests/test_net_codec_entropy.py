"""The snapshot codec's entropy coding: rANS round trips, statistics that server and client carry
identically along a lossy baseline chain, position prediction, new entities coded against each
other, and payloads that are cut or forged (refused with ProtocolError before anything large is
allocated)."""
from __future__ import annotations

import numpy as np
import pytest

from netcode import snapshot_model as sm
from netcode.bits import BitWriter
from netcode.field_schema import FieldEntry, FieldSchema
from netcode.quantize import TransformSpec, positions_of, quantise_positions, quantise_quats
from netcode.rans import RansDecoder, RansEncoder, frequencies
from netcode.snapshot_codec import View, decode, encode, prediction_spacing
from netcode.wire import ByteWriter, ProtocolError

SPEC = TransformSpec.fiedler()
SCHEMA = FieldSchema([FieldEntry("Door", "open", "bool")])


def same(a: View, b: View) -> bool:
    return (np.array_equal(a.ids, b.ids) and np.array_equal(a.pos, b.pos) and np.array_equal(a.largest, b.largest)
            and np.array_equal(a.parts, b.parts) and a.fields == b.fields)


def view_at(ids: np.ndarray, pos: np.ndarray, quats: np.ndarray) -> View:
    largest, parts = quantise_quats(quats, SPEC)
    return View(ids, quantise_positions(pos, SPEC), largest, parts)


def test_bit_sections_of_any_widths_round_trip() -> None:
    from netcode.bits import BitReader

    rng = np.random.default_rng(0)
    for _ in range(50):
        widths = rng.integers(0, 33, int(rng.integers(1, 400)))
        values = np.array([int(rng.integers(0, 1 << int(w))) if w else 0 for w in widths], dtype=np.uint64)
        values[widths == 32] = (1 << 32) - 1
        out = BitWriter()
        out.write(values, widths)
        out.write(1, 1)
        data = out.bytes()
        assert len(data) == (int(widths.sum()) + 1 + 7) // 8
        reader = BitReader(data)
        assert np.array_equal(reader.read(widths), values) and reader.read_one(1) == 1
        with pytest.raises(ProtocolError):
            reader.read(8, 1)


def test_rans_round_trips_and_refuses_cut_streams() -> None:
    rng = np.random.default_rng(1)
    alphabet = np.array([33, 6, 2, 20])
    counts = rng.integers(0, 50, size=(4, 33))
    cum = frequencies(counts, alphabet)
    assert np.all(cum[:, -1] == 1 << 14)
    assert np.all(np.diff(cum[1])[:6] >= 1) and np.all(np.diff(cum[1])[6:] == 0)  # only its alphabet
    groups = rng.integers(0, 4, 3000)
    symbols = np.array([rng.integers(0, alphabet[g]) for g in groups])
    encoder = RansEncoder(cum)
    encoder.add(groups[:1000], symbols[:1000])
    encoder.add(groups[1000:], symbols[1000:])
    data = encoder.bytes()
    decoder = RansDecoder(data, cum)
    got = np.concatenate([decoder.decode(groups[:1700]), decoder.decode(groups[1700:])])
    decoder.end()
    assert np.array_equal(got, symbols)
    information = np.sum(14 - np.log2(cum[groups, symbols + 1] - cum[groups, symbols])) / 8
    assert len(data) <= information + 8                    # within a few bytes of the model's bound
    for cut in range(0, len(data), 97):
        with pytest.raises(ProtocolError):
            decoder = RansDecoder(data[:cut], cum)
            decoder.decode(groups)
            decoder.end()
    with pytest.raises(ValueError):
        RansEncoder(cum).add(2, np.array([5]))             # outside that group's alphabet


def test_a_lossy_chain_keeps_both_sides_statistics_equal_and_prediction_pays() -> None:
    """Entities moving at steady speeds over 40 ticks, a quarter of packets lost: every packet is
    encoded against the newest acknowledged view, predicted from the one before; the client's
    views (statistics included) are the server's, and predicted packets are smaller."""
    rng = np.random.default_rng(2)
    n = 200
    ids = np.arange(1, n + 1, dtype=np.int64) * 3
    start = rng.uniform((-100, -100, 1), (100, 100, 20), size=(n, 3))
    velocity = rng.normal(0, 1.5, size=(n, 3)) * (rng.random((n, 1)) < 0.5)
    quats = rng.normal(size=(n, 4))
    server: dict[int, View] = {}
    client: dict[int, View] = {}
    acked: list[int] = []
    sizes = {True: [], False: []}
    for tick in range(1, 41):
        current = view_at(ids, start + velocity * tick / 60.0, quats)
        base_tick = acked[-1] if acked else 0
        prev_tick = acked[-2] if len(acked) > 1 else 0
        spacing = (tick - base_tick, base_tick - prev_tick) if prev_tick else (0, 0)
        enc = encode(current, server.get(base_tick), SPEC, SCHEMA, previous=server.get(prev_tick), spacing=spacing)
        if prev_tick:
            plain = encode(current, server.get(base_tick), SPEC, SCHEMA)
            sizes[True].append(len(enc.payload))
            sizes[False].append(len(plain.payload))
        server[tick] = enc.view
        if rng.random() < 0.25:
            continue                                        # lost on the way
        ahead, behind = prediction_spacing(enc.payload)
        assert (ahead, behind) == spacing
        got, _ = decode(enc.payload, client.get(base_tick), SPEC, SCHEMA, client.get(base_tick - behind) if ahead else None)
        assert same(got, current) and same(got, enc.view)
        assert got.stats is not None and got.stats.key == enc.view.stats.key
        assert all(np.array_equal(a, b) for a, b in zip(got.stats.window, enc.view.stats.window))
        client[tick] = got
        acked.append(tick)
    assert len(sizes[True]) > 10 and sum(sizes[True]) < 0.8 * sum(sizes[False])


def test_statistics_follow_the_scene() -> None:
    """The same kind of motion, packet after packet: once the baseline's statistics have seen it,
    the packets are smaller than the first one, coded under the prior."""
    rng = np.random.default_rng(3)
    ids = np.arange(1, 301, dtype=np.int64)
    pos = rng.uniform((-50, -50, 0), (50, 50, 5), size=(300, 3))
    quats = rng.normal(size=(300, 4))
    view = encode(view_at(ids, pos, quats), None, SPEC, SCHEMA).view
    sizes = []
    for _ in range(6):
        pos = pos.copy()
        pos[rng.choice(300, 60, replace=False)] += rng.normal(0, 0.05, size=(60, 3))
        enc = encode(view_at(ids, pos, quats), view, SPEC, SCHEMA)
        assert same(decode(enc.payload, view, SPEC, SCHEMA)[0], enc.view)
        view = enc.view
        sizes.append(len(enc.payload))
    assert max(sizes[3:]) < 0.85 * sizes[0], sizes


def test_new_entities_in_rows_are_coded_against_each_other() -> None:
    """A grid of resting crates costs far less than absolute cells; scattered entities fall back to
    absolute cells (no more than the 79 bits a cube, plus their ids)."""
    ids = np.arange(1, 901, dtype=np.int64)
    row, col = np.divmod(ids - 1, 30)
    grid = np.stack([col * 1.5 - 20, row * 1.5 - 20, np.full(900, 0.5)], axis=1)
    flat = np.tile([1.0, 0.0, 0.0, 0.0], (900, 1))
    rows = encode(view_at(ids, grid, flat), None, SPEC, SCHEMA)
    assert len(rows.payload) * 8 < 900 * 20
    rng = np.random.default_rng(4)
    scattered = encode(view_at(ids, rng.uniform((-250, -250, 0), (250, 250, 30), (900, 3)), rng.normal(size=(900, 4))),
                       None, SPEC, SCHEMA)
    assert len(scattered.payload) * 8 < 900 * (79 + 4) + 200
    for enc in (rows, scattered):
        got, _ = decode(enc.payload, None, SPEC, SCHEMA)
        assert same(got, enc.view)


def test_every_cut_payload_is_refused() -> None:
    rng = np.random.default_rng(5)
    ids = np.arange(1, 120, dtype=np.int64)
    pos = rng.uniform((-50, -50, 0), (50, 50, 5), size=(len(ids), 3))
    quats = rng.normal(size=(len(ids), 4))
    base = encode(view_at(ids, pos, quats), None, SPEC, SCHEMA).view
    moved = positions_of(base.pos, SPEC)
    moved[::3] += 0.2
    current = view_at(ids, moved, quats)
    current.fields = {4: {1: True}}
    payload = encode(current, base, SPEC, SCHEMA).payload
    for cut in range(len(payload)):
        with pytest.raises(ProtocolError):
            decode(payload[:cut], base, SPEC, SCHEMA)
    for trial in range(300):                               # changed bytes: refused, or a view inside the bounds
        data = bytearray(payload)
        data[rng.integers(len(data))] ^= 1 << int(rng.integers(8))
        try:
            view, _ = decode(bytes(data), base, SPEC, SCHEMA)
        except ProtocolError:
            continue
        assert np.all(np.diff(view.ids) > 0) and np.all(view.parts < 1 << SPEC.quat_bits)


def forged(sizes: list[int], extra_bits: int = 0) -> bytes:
    """A payload against nothing whose coded section claims ``sizes`` (removed, new)."""
    cum = sm.tables(None)
    coder = RansEncoder(cum)
    symbols, low, widths = sm.split(np.asarray(sizes))
    coder.add(sm.GROUP["sizes"], symbols)
    bits = BitWriter()
    bits.write(0, 12)
    bits.write(0, 12)
    bits.write(low, widths)
    bits.write(np.zeros(extra_bits, np.int64), 1)
    raw, coded = bits.bytes(), coder.bytes()
    return ByteWriter().varint(len(raw)).raw(raw).varint(len(coded)).raw(coded).varint(0).bytes()


def test_forged_counts_are_refused_before_anything_is_allocated() -> None:
    with pytest.raises(ProtocolError, match="new_count"):
        decode(forged([0, 1_000_000]), None, SPEC, SCHEMA)      # a million new entities in a few bytes
    with pytest.raises(ProtocolError, match="removed_count"):
        decode(forged([5, 0]), None, SPEC, SCHEMA)              # removing from an empty baseline
    with pytest.raises(ProtocolError):
        decode(forged([0, 40], extra_bits=80), None, SPEC, SCHEMA)  # room for them, but no symbols
    view, updates = decode(forged([0, 0]), None, SPEC, SCHEMA)
    assert len(view) == 0 and updates == []
