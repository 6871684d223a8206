"""Decoding snapshot payloads (the client's half of netcode/snapshot_codec.py, which has the
layout): every count, id and value is checked against the baseline and the transform spec before
it is used, and anything inconsistent (a cut, changed or forged payload) raises ProtocolError
naming the place in the payload. How much is read is bounded by the baseline and the payload's
own length, never by a number the payload claims."""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.fields import MAX_ENTITY_ID
from netcode import snapshot_model as sm
from netcode import snapshot_new
from netcode.bits import BitReader, bits_for, unzigzag
from netcode.quantize import TransformSpec
from netcode.rans import RansDecoder
from netcode.snapshot_codec import MAX_ENTITIES, FieldCodec, View, _assemble, member
from netcode.snapshot_fields import merge_fields, read_fields
from netcode.wire import ByteReader, ProtocolError


class _Symbols:
    """The coded symbols of one payload, read in coding order, with the counts they add."""

    def __init__(self, data: bytes, tables: np.ndarray) -> None:
        self.coder = RansDecoder(data, tables)
        self.groups: list[np.ndarray] = []
        self.symbols: list[np.ndarray] = []

    def read(self, groups: np.ndarray) -> np.ndarray:
        groups = np.asarray(groups, np.int64).reshape(-1)
        symbols = self.coder.decode(groups)
        self.groups.append(groups)
        self.symbols.append(symbols)
        return symbols


def _values(reader: BitReader, symbols: np.ndarray, field: str) -> np.ndarray:
    """The values whose bit lengths are ``symbols``: their low bits come from the raw section."""
    return sm.join(symbols, reader.read(sm.raw_widths(symbols), field=field).astype(np.int64))


def _check_grid(values: np.ndarray, tops: np.ndarray, field: str, expected: str) -> None:
    if values.size and (np.any(values < 0) or np.any(values > tops)):
        raise ProtocolError(f"snapshot.{field}", expected)


def decode(payload: bytes, baseline: View | None, spec: TransformSpec, schema: FieldCodec,
           previous: View | None = None) -> tuple[View, list[tuple[int, int, Any]]]:
    """The view a payload gives over ``baseline`` (None: the payload was encoded against nothing),
    and the field updates it carried; ProtocolError for any inconsistency. A payload predicted
    from an older view needs it as ``previous`` (``prediction_spacing`` says which)."""
    base = baseline if baseline is not None else View.empty()
    g = sm.GROUP
    outer = ByteReader(payload, "snapshot")
    reader = BitReader(outer.blob("bits", len(payload)))
    model = sm.tables(base.stats)
    coded = _Symbols(outer.blob("coded", len(payload)), model)
    ahead, behind = reader.read_one(12, "ahead"), reader.read_one(12, "behind")
    if bool(ahead) != bool(behind) or (ahead and (previous is None or baseline is None)):
        raise ProtocolError("snapshot.behind", "a prediction from a view this side has (ticks back from the baseline)")
    predicted = sm.predict(base.pos, base.ids, previous if ahead else None, ahead, behind, spec)
    n_removed, n_new = _values(reader, coded.read(np.full(2, g["sizes"])), "sizes").tolist()
    if n_removed > len(base):
        raise ProtocolError("snapshot.removed_count", f"at most the {len(base)} entities of the baseline")
    removed_rows = reader.read(bits_for(max(len(base), 1)), n_removed, "removed").astype(np.int64)
    removed = np.zeros(len(base), bool)
    if n_removed:
        if removed_rows.max() >= len(base):
            raise ProtocolError("snapshot.removed", "rows of the baseline")
        removed[removed_rows] = True
    if n_new > MAX_ENTITIES or 2 * n_new > reader.remaining:
        raise ProtocolError("snapshot.new_count", f"at most one new entity per 2 bits left (it says {n_new})")
    new = snapshot_new.read_header(reader, n_new)
    if new.levels:
        coded.coder.use(new.tables(model))
    # which baseline entities are sent: each motion class lists its sent (or unsent) entities
    cls = sm.motion_class(base.pos, predicted)
    kept = ~removed
    members = [np.flatnonzero(kept & (cls == c)) for c in range(sm.CLASSES)]
    present = [c for c in range(sm.CLASSES) if len(members[c])]
    polarity = reader.read(1, len(present), "polarity").astype(np.int64)
    counts = _values(reader, coded.read(np.full(len(present), g["count"])), "listed_counts")
    sizes = np.asarray([len(members[c]) for c in present], np.int64)
    if np.any(counts > sizes):
        raise ProtocolError("snapshot.listed_counts", "no more listed entities than a motion class has")
    gap_groups = np.repeat(g["gap"] + 2 * np.asarray(present, np.int64) + polarity, counts)
    gaps = _values(reader, coded.read(gap_groups), "gaps") + 1
    is_sent = np.zeros(len(base), bool)
    start = 0
    for c, pol, count in zip(present, polarity.tolist(), counts.tolist()):
        at = np.cumsum(gaps[start:start + count]) - 1
        start += count
        if count and at[-1] >= len(members[c]):
            raise ProtocolError("snapshot.gaps", f"positions inside motion class {c} ({len(members[c])} entities)")
        flags = np.zeros(len(members[c]), bool)
        flags[at] = True
        is_sent[members[c]] = flags != bool(pol)
    sent_base = np.flatnonzero(is_sent)
    c_sent = cls[sent_base]
    kinds = coded.read(g["kind"] + c_sent)
    moved, quat_kind = kinds // 3 == 1, kinds % 3
    axis_group = np.stack([g["pos_xy"] + c_sent, g["pos_xy"] + c_sent, g["pos_z"] + c_sent], axis=1)
    pos_symbols = coded.read(axis_group[moved])
    delta = quat_kind == 1
    part_group = g["quat"] + np.arange(3)[None, :] * sm.CLASSES + c_sent[:, None]
    turn_symbols = coded.read(part_group[delta])
    new_gap_symbols = coded.read(np.full(n_new, g["new_gap"]))
    new_pos_symbols = coded.read(np.tile([g["new_xy"], g["new_xy"], g["new_z"]], n_new if new.pos_mode else 0))
    new_part_symbols = coded.read(np.full(3 * n_new if new.part_mode else 0, g["new_quat"]))
    coded.coder.end()
    # the raw bits, in the same order
    tops = np.asarray([(1 << b) - 1 for b in spec.pos_bits], np.int64)
    top_part = (1 << spec.quat_bits) - 1
    pos = predicted[sent_base].copy()
    pos[moved] += unzigzag(_values(reader, pos_symbols, "positions")).reshape(-1, 3)
    _check_grid(pos, tops[None, :], "positions", "positions inside the transform spec's bounds")
    largest, parts = base.largest[sent_base].copy(), base.parts[sent_base].copy()
    parts[delta] += unzigzag(_values(reader, turn_symbols, "orientations")).reshape(-1, 3)
    absolute = np.flatnonzero(quat_kind == 2)
    cells = reader.read(np.tile([2, spec.quat_bits, spec.quat_bits, spec.quat_bits], len(absolute)),
                        field="orientations").astype(np.int64).reshape(-1, 4)
    largest[absolute], parts[absolute] = cells[:, 0], cells[:, 1:]
    _check_grid(parts, np.int64(top_part), "orientations", f"quaternion parts of {spec.quat_bits} bits")
    new_ids = np.cumsum(_values(reader, new_gap_symbols, "new_ids") + 1)
    if n_new and new_ids[-1] > MAX_ENTITY_ID:
        raise ProtocolError("snapshot.new_ids", f"entity ids up to {MAX_ENTITY_ID}")
    if member(new_ids, base.ids[kept]).any():
        raise ProtocolError("snapshot.new_ids", "ids of entities not in the baseline")
    if new.pos_mode:
        new_pos = snapshot_new.positions(new.pos_mode, _values(reader, new_pos_symbols, "new_positions"))
    else:
        new_pos = reader.read(np.tile(spec.pos_bits, n_new), field="new_positions").astype(np.int64).reshape(-1, 3)
    _check_grid(new_pos, tops[None, :], "new_positions", "positions inside the transform spec's bounds")
    new_largest = reader.read(2, n_new, "new_orientations").astype(np.int64)
    if new.part_mode:
        new_parts = snapshot_new.orientations(1, _values(reader, new_part_symbols, "new_orientations"))
    else:
        new_parts = reader.read(spec.quat_bits, 3 * n_new, "new_orientations").astype(np.int64).reshape(-1, 3)
    _check_grid(new_parts, np.int64(top_part), "new_orientations", f"quaternion parts of {spec.quat_bits} bits")
    if reader.remaining >= 8:
        raise ProtocolError("snapshot.bits", "no whole unused bytes after the new orientations")
    ids = np.concatenate([base.ids[sent_base], new_ids])
    order = np.argsort(ids, kind="stable")
    view = _assemble(base, removed, ids[order], np.concatenate([pos, new_pos])[order],
                     np.concatenate([largest, new_largest])[order], np.concatenate([parts, new_parts])[order])
    view.stats = sm.Stats.of(sm.count(coded.groups, coded.symbols), base.stats)
    present_ids = set(view.ids.tolist())
    updates = read_fields(outer, present_ids, schema)
    view.fields = merge_fields(present_ids, base.fields, updates)
    return view, updates


def prediction_spacing(payload: bytes) -> tuple[int, int]:
    """(ticks ahead of the baseline, ticks from the previous view to the baseline) of a payload:
    a client looks up the previous view it needs to decode it; (0, 0) when it needs none."""
    outer = ByteReader(payload, "snapshot")
    reader = BitReader(outer.blob("bits", len(payload))[:3])
    return reader.read_one(12, "ahead"), reader.read_one(12, "behind")
