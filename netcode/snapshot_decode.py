"""Decoding snapshot payloads (the client's half of netcode/snapshot_codec.py, which has the
layout): every count, width, id and value is checked against the baseline and the transform spec,
and anything inconsistent raises ProtocolError naming the place in the payload."""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.fields import MAX_ENTITY_ID
from netcode.bits import BitReader, bits_for, unzigzag
from netcode.quantize import TransformSpec
from netcode.snapshot_codec import (
    COUNT_BITS,
    ID_BITS,
    MAX_FIELD_UPDATES,
    FieldCodec,
    View,
    _assemble,
    _merge_fields,
    member,
    predict,
)
from netcode.wire import ByteReader, ProtocolError


def _read_ids(reader: BitReader, count: int) -> np.ndarray:
    g1, g2 = reader.read_one(5, "gap_width"), reader.read_one(5, "gap_width")
    if not g1 < g2 <= 24:
        raise ProtocolError(f"{reader.where}.gap_width", "two gap widths w1 < w2 <= 24")
    cats = reader.read(2, count, "gap_categories").astype(np.int64)
    widths = np.choose(cats, [0, g1, g2, ID_BITS])
    values = reader.read(widths, field="gaps").astype(np.int64)
    gaps = np.where(cats == 0, 1, np.where(cats == 3, values, values + 2))
    if np.any(gaps < 1):
        raise ProtocolError(f"{reader.where}.gaps", "entity id gaps of at least 1")
    ids = np.cumsum(gaps)
    if ids.size and ids[-1] > MAX_ENTITY_ID:
        raise ProtocolError(f"{reader.where}.gaps", f"entity ids up to {MAX_ENTITY_ID}")
    return ids


def decode(payload: bytes, baseline: View | None, spec: TransformSpec, schema: FieldCodec,
           previous: View | None = None) -> tuple[View, list[tuple[int, int, Any]]]:
    """The view a payload gives over ``baseline`` (None: the payload was encoded against nothing),
    and the field updates it carried; ProtocolError for any inconsistency. A payload predicted
    from an older view needs it as ``previous`` (``prediction_spacing`` says which)."""
    base = baseline if baseline is not None else View.empty()
    outer = ByteReader(payload, "snapshot")
    bits = outer.blob("bits", len(payload))
    reader = BitReader(bits)
    ahead, behind = reader.read_one(12, "ahead"), reader.read_one(12, "behind")
    if ahead and (not behind or previous is None or baseline is None):
        raise ProtocolError("snapshot.behind", "a prediction from a view this side has (ticks back from the baseline)")
    pred_pos, pred_parts = predict(base, previous if ahead else None, ahead, behind, spec)
    mode = reader.read_one(1, "mode")
    n_removed = reader.read_one(COUNT_BITS, "removed_count")
    if n_removed > len(base):
        raise ProtocolError("snapshot.removed_count", f"at most the {len(base)} entities of the baseline")
    removed_rows = reader.read(bits_for(max(len(base), 1)), n_removed, "removed").astype(np.int64)
    removed = np.zeros(len(base), bool)
    if n_removed:
        if removed_rows.max() >= len(base):
            raise ProtocolError("snapshot.removed", "rows of the baseline")
        removed[removed_rows] = True
    kept_base = base.ids[~removed]
    if mode == 0:
        n_new = reader.read_one(COUNT_BITS, "new_count")
        mask = reader.read(1, len(kept_base), "changed_bits").astype(bool)
        new_ids = _read_ids(reader, n_new)
        if member(new_ids, kept_base).any():
            raise ProtocolError("snapshot.new_ids", "ids of entities not in the baseline")
        ids = np.sort(np.concatenate([kept_base[mask], new_ids]))
    else:
        ids = _read_ids(reader, reader.read_one(COUNT_BITS, "sent_count"))
    p1, p2, q1, q2 = (reader.read_one(5, "widths") for _ in range(4))
    pos_bits = spec.pos_bits
    if not (p1 < p2 < max(pos_bits) and q1 < q2 <= spec.quat_bits):
        raise ProtocolError("snapshot.widths", "delta widths w1 < w2 inside the transform spec")
    in_base = member(ids, kept_base)
    cats = reader.read(2, 2 * int(in_base.sum()), "categories").astype(np.int64).reshape(-1, 2)
    pos_cat = np.full(len(ids), 3, np.int64)
    quat_cat = np.full(len(ids), 3, np.int64)
    pos_cat[in_base], quat_cat[in_base] = cats[:, 0], cats[:, 1]
    brow = np.searchsorted(base.ids, ids)
    brow = np.where(in_base, np.minimum(brow, max(len(base) - 1, 0)), 0)
    pos_widths = np.where((pos_cat == 3)[:, None], np.asarray(pos_bits)[None, :], np.choose(pos_cat, [0, p1, p2, 0])[:, None])
    raw = reader.read(pos_widths.reshape(-1), field="positions").astype(np.int64).reshape(-1, 3)
    base_pos = pred_pos[brow] if len(base) else np.zeros((len(ids), 3), np.int64)
    pos = np.where((pos_cat == 3)[:, None], raw, base_pos + np.where((pos_cat == 0)[:, None], 0, unzigzag(raw)))
    if np.any(pos < 0) or np.any(pos >= (1 << np.asarray(pos_bits))[None, :]):
        raise ProtocolError("snapshot.positions", "positions inside the transform spec's bounds")
    full = quat_cat == 3
    q_widths = np.where(full[:, None], spec.quat_bits, np.choose(quat_cat, [0, q1, q2, 0])[:, None])
    q_widths = np.concatenate([np.where(full, 2, 0)[:, None], np.broadcast_to(q_widths, (len(ids), 3))], axis=1)
    raw = reader.read(q_widths.reshape(-1), field="orientations").astype(np.int64).reshape(-1, 4)
    base_l = base.largest[brow] if len(base) else np.zeros(len(ids), np.int64)
    base_parts = pred_parts[brow] if len(base) else np.zeros((len(ids), 3), np.int64)
    largest = np.where(full, raw[:, 0], base_l)
    parts = np.where(full[:, None], raw[:, 1:], base_parts + np.where((quat_cat == 0)[:, None], 0, unzigzag(raw[:, 1:])))
    if np.any(parts < 0) or np.any(parts >= (1 << spec.quat_bits)):
        raise ProtocolError("snapshot.orientations", f"quaternion parts of {spec.quat_bits} bits")
    view = _assemble(base, removed, ids, pos, largest, parts)
    if reader.remaining >= 8:
        raise ProtocolError("snapshot.bits", "no whole unused bytes after the orientations")
    updates = _read_fields(outer, view, schema)
    view.fields = _merge_fields(view, base, updates)
    return view, updates


def prediction_spacing(payload: bytes) -> tuple[int, int]:
    """(ticks ahead of the baseline, ticks from the previous view to the baseline) of a payload:
    a client looks up the previous view it needs to decode it; (0, 0) when it needs none."""
    outer = ByteReader(payload, "snapshot")
    reader = BitReader(outer.blob("bits", len(payload))[:4])
    return reader.read_one(12, "ahead"), reader.read_one(12, "behind")


def _read_fields(reader: ByteReader, view: View, schema: FieldCodec) -> list[tuple[int, int, Any]]:
    reader.where = "snapshot.fields"
    count = reader.varint("count", MAX_FIELD_UPDATES)
    present = set(view.ids.tolist())
    updates = []
    eid = 0
    for _ in range(count):
        eid += reader.varint("entity_gap", MAX_ENTITY_ID)
        fid = reader.varint("field", 1 << 20)
        if eid not in present:
            raise ProtocolError("snapshot.fields.entity_gap", f"an entity of this view (entity {eid} is not in it)")
        if not schema.has(fid):
            raise ProtocolError("snapshot.fields.field", f"a field id of the schema (got {fid})")
        updates.append((eid, fid, schema.decode_value(reader, fid)))
    reader.end()
    return updates
