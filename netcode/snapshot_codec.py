"""The snapshot codec: a client's view of the world (quantised transforms and replicated field
values per entity) as a delta against the last view that client acknowledged.

Per entity the server sends nothing when it matches the baseline; otherwise its position as a
delta on the baseline's grid cells (or absolute), its orientation as a delta of the smallest-three
parts (or absolute when the largest component changed), and its changed field values. Which
entities are sent is said either with one *changed bit* per baseline entity or with *relative
indices* (id gaps, mostly 1), whichever is smaller this packet. The bit widths of deltas and gaps
are picked per packet from histograms of what is to be sent (two widths per kind, announced in
the header, a 2-bit category per value). With a *packet budget*, entities are taken in order of
their accumulated priority until the budget is spent; the rest keep their baseline values on
both sides and wait for the next packet.

Both sides build the new view with ``_assemble`` from the same inputs, so the server knows
exactly what a client will have once it acknowledges the packet (per-client baselines).
Layout of a payload (all bit sections MSB-first; see docs/protocol.md):

    varint  bit-section length in bytes
    bits    header | removed indices | sent ids | categories | positions | orientations
    bytes   field updates: varint count, then (varint id gap, varint field id, value) each
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from netcode.bits import BitWriter, bits_for, zigzag
from netcode.quantize import TransformSpec
from netcode.wire import ByteReader, ByteWriter

COUNT_BITS = 20
MAX_ENTITIES = (1 << COUNT_BITS) - 1
ID_BITS = 31
MAX_FIELD_UPDATES = 1 << 20


class FieldCodec(Protocol):
    """Writes and reads one replicated field's quantised value by field id (see replication.py)."""

    def encode_value(self, out: ByteWriter, fid: int, value: Any) -> None: ...

    def decode_value(self, reader: ByteReader, fid: int) -> Any: ...

    def has(self, fid: int) -> bool: ...


@dataclass
class View:
    """What one client has of the world at one tick: ids sorted, quantised transforms by row, and
    replicated field values (quantised) per entity id."""

    ids: np.ndarray
    pos: np.ndarray
    largest: np.ndarray
    parts: np.ndarray
    fields: dict[int, dict[int, Any]] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> "View":
        return cls(np.zeros(0, np.int64), np.zeros((0, 3), np.int64), np.zeros(0, np.int64), np.zeros((0, 3), np.int64))

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id (ids must be present)."""
        return np.searchsorted(self.ids, ids)


def member(values: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """``np.isin`` for a sorted array of unique ids (several times faster on small arrays)."""
    if not len(sorted_ids):
        return np.zeros(len(values), bool)
    at = np.minimum(np.searchsorted(sorted_ids, values), len(sorted_ids) - 1)
    return sorted_ids[at] == values


def _bit_lengths(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return np.where(values > 0, np.frexp(values)[1], 0).astype(np.int64)


def _pick_widths(needs: np.ndarray, per_value: int, full_cost: int, low: int, high: int) -> tuple[int, int, int]:
    """Two widths w1 < w2 (w1 >= low, w2 <= high) minimising the bits of values needing ``needs``
    bits each, ``per_value`` values per item; items over w2 cost ``full_cost``. Returns (w1, w2, bits)."""
    if needs.size == 0:
        return low, min(low + 1, high), 0
    cum = np.cumsum(np.bincount(np.minimum(needs, 63), minlength=64)[:64])
    total = int(cum[-1])
    w = np.arange(high + 1)
    w1, w2 = w[:, None], w[None, :]
    under1, under2 = cum[w1], cum[w2]
    bits = under1 * w1 * per_value + (under2 - under1) * w2 * per_value + (total - under2) * full_cost
    bits = np.where((w2 > w1) & (w1 >= low), bits, np.iinfo(np.int64).max)
    best = int(np.argmin(bits))
    a, b = divmod(best, high + 1)
    return a, b, int(bits[a, b])


def _categorise(needs: np.ndarray, w1: int, w2: int, zero: np.ndarray) -> np.ndarray:
    cats = np.where(needs <= w1, 1, np.where(needs <= w2, 2, 3))
    return np.where(zero, 0, cats).astype(np.int64)


def _gap_needs(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gaps = np.diff(np.concatenate(([0], ids)))
    return gaps, _bit_lengths(np.maximum(gaps - 2, 0))


def _write_ids(out: BitWriter, ids: np.ndarray) -> None:
    gaps, needs = _gap_needs(ids)
    g1, g2, _ = _pick_widths(needs[gaps > 1], 1, ID_BITS, 0, 24)
    out.write(g1, 5)
    out.write(g2, 5)
    cats = _categorise(needs, g1, g2, gaps == 1)
    out.write(cats, 2)
    widths = np.choose(cats, [0, g1, g2, ID_BITS])
    values = np.where(cats == 3, gaps, np.maximum(gaps - 2, 0))
    out.write(np.where(cats == 0, 0, values), widths)


def _ids_cost(ids: np.ndarray) -> int:
    gaps, needs = _gap_needs(ids)
    return 10 + 2 * len(ids) + _pick_widths(needs[gaps > 1], 1, ID_BITS, 0, 24)[2]


@dataclass
class Encoded:
    """One encoded payload and the view the client will hold once it has it."""

    payload: bytes
    view: View
    sent: int           # entities whose transform was written
    field_updates: int


class TransformCache:
    """Transform sections already encoded this tick, by the identity of their inputs (the arrays
    of the current view, the baseline and the prediction view, and the spacing): clients that
    share them get the same bits. Holds its inputs so that no identity is reused while cached."""

    def __init__(self) -> None:
        self._tick = -1
        self._entries: dict[tuple, tuple[Any, bytes, View, int]] = {}
        self.fields: dict[tuple[int, int], Any] = {}   # field-section pieces by (held dict, new dict)
        self.hits = self.misses = 0

    def start(self, tick: int) -> None:
        """Forget everything of an earlier tick."""
        if tick != self._tick:
            self._tick = tick
            self._entries.clear()
            self.fields.clear()

    @staticmethod
    def key(current: View, base: View | None, previous: View | None, spacing: tuple[int, int]) -> tuple:
        def ident(view: View | None) -> tuple:
            return (0, 0, 0, 0) if view is None else (id(view.ids), id(view.pos), id(view.largest), id(view.parts))
        return (*ident(current), *ident(base), *ident(previous), spacing)

    def get(self, key: tuple) -> tuple[bytes, View, int] | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        return entry[1], entry[2], entry[3]

    def put(self, key: tuple, held: Any, bits: bytes, view: View, sent: int) -> None:
        self._entries[key] = (held, bits, view, sent)


def _same_transforms(a: View, b: View) -> bool:
    return (len(a.ids) == len(b.ids) and np.array_equal(a.ids, b.ids) and np.array_equal(a.pos, b.pos)
            and np.array_equal(a.largest, b.largest) and np.array_equal(a.parts, b.parts))


def encode(current: View, baseline: View | None, spec: TransformSpec, schema: FieldCodec,
           priority: np.ndarray | None = None, budget_bits: int | None = None,
           previous: View | None = None, spacing: tuple[int, int] = (0, 0),
           cache: TransformCache | None = None) -> Encoded:
    """Encode ``current`` against ``baseline`` (None: against nothing, every entity absolute).
    ``priority`` (one value per row of ``current``) orders entities when ``budget_bits`` limits the
    transform section; without a budget everything that changed is sent. With ``previous`` (an
    older view the client also acknowledged) and ``spacing`` = (ticks from baseline to now, ticks
    from previous to baseline), deltas are taken against a linear prediction from the two.
    ``cache`` (only without a budget) shares transform sections between clients (see TransformCache)."""
    base = baseline if baseline is not None else View.empty()
    if cache is not None and budget_bits is None:
        key = cache.key(current, baseline, previous, spacing)
        hit = cache.get(key)
        if hit is None:
            bits, tview, sent = _encode_transforms(current, base, baseline, spec, None, None, previous, spacing)
            cache.put(key, (current, baseline, previous), bits, tview, sent)
        else:
            bits, tview, sent = hit
        return _with_fields(current, base, bits, tview, sent, schema, cache.fields)
    bits, tview, sent = _encode_transforms(current, base, baseline, spec, priority, budget_bits, previous, spacing)
    return _with_fields(current, base, bits, tview, sent, schema)


def _with_fields(current: View, base: View, bits: bytes, tview: View, sent: int, schema: FieldCodec,
                 shared: dict | None = None) -> Encoded:
    view = View(tview.ids, tview.pos, tview.largest, tview.parts)
    present = set(view.ids.tolist())
    fields_out, count, results = _write_fields(current, base, present, schema, shared)
    merged = {eid: values for eid, values in base.fields.items() if eid in present}
    merged.update(results)
    view.fields = merged
    payload = ByteWriter().varint(len(bits)).raw(bits).raw(fields_out).bytes()
    return Encoded(payload, view, sent, count)


def _encode_transforms(current: View, base: View, baseline: View | None, spec: TransformSpec,
                       priority: np.ndarray | None, budget_bits: int | None, previous: View | None,
                       spacing: tuple[int, int]) -> tuple[bytes, View, int]:
    """The transform section's bytes, the transforms the client will hold, entities sent."""
    ahead, behind = spacing if previous is not None and baseline is not None else (0, 0)
    if not (0 < ahead < 1 << 12 and 0 < behind < 1 << 12):
        ahead = behind = 0
    pred_pos, pred_parts = predict(base, previous if ahead else None, ahead, behind, spec)
    if len(current) > MAX_ENTITIES:
        raise ValueError(f"a view holds at most {MAX_ENTITIES} entities")
    in_base = member(current.ids, base.ids)
    brow = np.searchsorted(base.ids, current.ids)
    brow = np.where(in_base, np.minimum(brow, max(len(base) - 1, 0)), 0)
    removed = ~member(base.ids, current.ids)
    if len(base):
        changed = np.where(in_base[:, None], current.pos != base.pos[brow], True).any(axis=1)
        changed |= np.where(in_base[:, None], current.parts != base.parts[brow], True).any(axis=1)
        same_l = in_base & (current.largest == base.largest[brow])
        pos_delta = np.where(in_base[:, None], current.pos - pred_pos[brow], 0)
        quat_delta = np.where(same_l[:, None], current.parts - pred_parts[brow], 0)
    else:
        changed = np.ones(len(current), bool)
        pos_delta = np.zeros_like(current.pos)
        same_l = np.zeros(len(current), bool)
        quat_delta = np.zeros_like(current.parts)
    moved = changed | ~same_l
    candidates = np.flatnonzero(moved)
    if budget_bits is not None and priority is not None and candidates.size:
        candidates = _within_budget(candidates, current, base, in_base, pos_delta, quat_delta, same_l, removed,
                                    spec, priority, budget_bits)
    chosen = np.zeros(len(current), bool)
    chosen[candidates] = True
    for _ in range(6):
        out, view = _write(current, base, spec, in_base, brow, removed, pos_delta, quat_delta, same_l, chosen,
                           (ahead, behind))
        bits = out.bytes()
        if budget_bits is None or priority is None or len(bits) * 8 <= budget_bits or not chosen.any():
            break
        rows = np.flatnonzero(chosen)
        drop = rows[np.argsort(priority[rows])][: max(1, len(rows) // 10)]
        chosen[drop] = False
    if _same_transforms(view, current):
        view = current          # everything that changed was sent: share the current arrays
    return bits, view, int(chosen.sum())


def _within_budget(candidates: np.ndarray, current: View, base: View, in_base: np.ndarray, pos_delta: np.ndarray,
                   quat_delta: np.ndarray, same_l: np.ndarray, removed: np.ndarray, spec: TransformSpec,
                   priority: np.ndarray, budget_bits: int) -> np.ndarray:
    """The candidates of highest priority whose estimated cost fits the budget."""
    pos_need = _bit_lengths(np.max(zigzag(pos_delta), axis=1))
    quat_need = _bit_lengths(np.max(zigzag(quat_delta), axis=1))
    full_pos, full_quat = sum(spec.pos_bits), 2 + 3 * spec.quat_bits
    cost = np.where(in_base, 4 + 3 * pos_need + np.where(same_l, 3 * quat_need, full_quat), full_pos + full_quat)
    cost = cost + 6  # its share of the index and width choice
    order = candidates[np.argsort(-priority[candidates], kind="stable")]
    room = budget_bits - 120 - int(removed.sum()) * bits_for(max(len(base), 1))
    keep = np.cumsum(cost[order]) <= room
    return np.sort(order[keep])


def _write(current: View, base: View, spec: TransformSpec, in_base: np.ndarray, brow: np.ndarray,
           removed: np.ndarray, pos_delta: np.ndarray, quat_delta: np.ndarray, same_l: np.ndarray,
           chosen: np.ndarray, spacing: tuple[int, int]) -> tuple[BitWriter, View]:
    out = BitWriter()
    out.write(spacing[0], 12)
    out.write(spacing[1], 12)
    sent = np.flatnonzero(chosen)
    sent_ids = current.ids[sent]
    kept_base = base.ids[~removed]
    sent_in_base = in_base[sent]
    # which entities: changed bits over the kept baseline, or relative ids, whichever is smaller
    new_ids = sent_ids[~sent_in_base]
    mask_cost = len(kept_base) + _ids_cost(new_ids)
    relative_cost = _ids_cost(sent_ids)
    mode = 0 if mask_cost < relative_cost else 1
    removed_rows = np.flatnonzero(removed)
    out.write(mode, 1)
    out.write(len(removed_rows), COUNT_BITS)
    out.write(removed_rows, bits_for(max(len(base), 1)))
    if mode == 0:
        out.write(len(new_ids), COUNT_BITS)
        out.write(member(kept_base, sent_ids).astype(np.uint64), 1)
        _write_ids(out, new_ids)
    else:
        out.write(len(sent_ids), COUNT_BITS)
        _write_ids(out, sent_ids)
    # categories (entities in the baseline) and the widths they select
    pd, qd = pos_delta[sent], quat_delta[sent]
    base_rows = sent_in_base
    pos_need = _bit_lengths(np.max(zigzag(pd), axis=1))
    quat_need = _bit_lengths(np.max(zigzag(qd), axis=1))
    pos_bits = spec.pos_bits
    full_quat = 2 + 3 * spec.quat_bits
    pos_zero = np.all(pd == 0, axis=1)
    quat_zero = same_l[sent] & np.all(qd == 0, axis=1)
    p1, p2, _ = _pick_widths(pos_need[base_rows & ~pos_zero], 3, sum(pos_bits), 0, max(pos_bits) - 1)
    q1, q2, _ = _pick_widths(quat_need[base_rows & same_l[sent] & ~quat_zero], 3, full_quat, 0, spec.quat_bits)
    for width in (p1, p2, q1, q2):
        out.write(width, 5)
    pos_cat = np.where(base_rows, _categorise(pos_need, p1, p2, pos_zero), 3)
    quat_cat = np.where(base_rows & same_l[sent], _categorise(quat_need, q1, q2, quat_zero), 3)
    out.write(np.stack([pos_cat[base_rows], quat_cat[base_rows]], axis=1).reshape(-1), 2)
    # positions: deltas (zig-zag) or absolute cells
    abs_pos = current.pos[sent]
    pos_widths = np.where((pos_cat == 3)[:, None], np.asarray(pos_bits)[None, :], np.choose(pos_cat, [0, p1, p2, 0])[:, None])
    pos_values = np.where((pos_cat == 3)[:, None], abs_pos, np.where((pos_cat == 0)[:, None], 0, zigzag(pd).astype(np.int64)))
    out.write(pos_values.reshape(-1), pos_widths.reshape(-1))
    # orientations: largest index + absolute parts, or deltas of the parts
    full = quat_cat == 3
    q_widths = np.where(full[:, None], spec.quat_bits, np.choose(quat_cat, [0, q1, q2, 0])[:, None])
    q_widths = np.concatenate([np.where(full, 2, 0)[:, None], np.broadcast_to(q_widths, (len(sent), 3))], axis=1)
    q_values = np.where(full[:, None], current.parts[sent], np.where((quat_cat == 0)[:, None], 0, zigzag(qd).astype(np.int64)))
    q_values = np.concatenate([np.where(full, current.largest[sent], 0)[:, None], q_values], axis=1)
    out.write(q_values.reshape(-1), q_widths.reshape(-1))
    view = _assemble(base, removed, sent_ids, current.pos[sent], current.largest[sent], current.parts[sent])
    return out, view


def _assemble(base: View, removed: np.ndarray, ids: np.ndarray, pos: np.ndarray, largest: np.ndarray,
              parts: np.ndarray) -> View:
    """The new view: the baseline without ``removed`` rows, with the sent rows put in or over."""
    keep = ~removed
    kept_ids = base.ids[keep]
    stale = ~member(kept_ids, ids)
    all_ids = np.concatenate([kept_ids[stale], ids])
    order = np.argsort(all_ids, kind="stable")
    view = View(all_ids[order],
                np.concatenate([base.pos[keep][stale], pos])[order],
                np.concatenate([base.largest[keep][stale], largest])[order],
                np.concatenate([base.parts[keep][stale], parts])[order])
    return view


def predict(base: View, previous: View | None, ahead: int, behind: int,
            spec: TransformSpec) -> tuple[np.ndarray, np.ndarray]:
    """Where each baseline entity should be ``ahead`` ticks after the baseline, going on as it went
    from ``previous`` (``behind`` ticks earlier): integer arithmetic, the same on both sides.
    Entities not in ``previous``, or whose largest quaternion part changed, are predicted to stay."""
    if previous is None or not ahead or not len(base):
        return base.pos, base.parts
    in_prev = member(base.ids, previous.ids)
    prow = np.minimum(np.searchsorted(previous.ids, base.ids), max(len(previous) - 1, 0))
    if not len(previous):
        return base.pos, base.parts
    half = behind // 2
    step_pos = np.where(in_prev[:, None], base.pos - previous.pos[prow], 0)
    pos = base.pos + np.floor_divide(step_pos * ahead + half, behind)
    top = np.asarray([(1 << b) - 1 for b in spec.pos_bits])
    pos = np.clip(pos, 0, top)
    same = in_prev & (previous.largest[prow] == base.largest)
    step_parts = np.where(same[:, None], base.parts - previous.parts[prow], 0)
    parts = np.clip(base.parts + np.floor_divide(step_parts * ahead + half, behind), 0, (1 << spec.quat_bits) - 1)
    return pos, parts


def _varint(value: int) -> bytes:
    return ByteWriter().varint(value).bytes()


def _write_fields(current: View, base: View, present: set[int], schema: FieldCodec,
                  shared: dict | None = None) -> tuple[bytes, int, dict[int, dict[int, Any]]]:
    """Field values of entities the client will hold (``present``) that differ from what it has:
    the section's bytes, the number of updates, and per updated entity the dict it then holds
    (the current one itself whenever the two are equal, so that clients share baselines). Per
    entity the bytes after its id gap depend only on (what it has, what it gets): with ``shared``
    (a per-tick dict) they are worked out once for every client holding the same dicts."""
    base_fields = base.fields
    chunks: list[bytes] = []
    results: dict[int, dict[int, Any]] = {}
    count = previous = 0
    for eid in sorted(current.fields):
        if eid not in present:
            continue
        values = current.fields[eid]
        have = base_fields.get(eid)
        if have is values:
            continue
        if have == values:
            results[eid] = values
            continue
        key = (id(have), id(values))
        entry = shared.get(key) if shared is not None else None
        if entry is None:
            changed = [(fid, value) for fid, value in sorted(values.items())
                       if have is None or have.get(fid, _MISSING) != value]
            body = ByteWriter()
            for i, (fid, value) in enumerate(changed):
                if i:
                    body.varint(0)                 # the same entity again: id gap 0
                body.varint(fid)
                schema.encode_value(body, fid, value)
            held = values if have is None or have.keys() <= values.keys() else {**have, **dict(changed)}
            entry = (len(changed), body.bytes(), held, have, values)   # holds the dicts: their ids stay theirs
            if shared is not None:
                shared[key] = entry
        if not entry[0]:
            continue
        chunks.append(_varint(eid - previous))
        chunks.append(entry[1])
        results[eid] = entry[2]
        count += entry[0]
        previous = eid
    return _varint(count) + b"".join(chunks), count, results


_MISSING = object()


def _merge_fields(view: View, base: View, updates: list[tuple[int, int, Any]]) -> dict[int, dict[int, Any]]:
    """The field values a client holds after decoding: the baseline's (dicts shared, never changed
    in place) of entities still in the view, with the updated entities' dicts copied."""
    present = set(view.ids.tolist())
    merged = {eid: values for eid, values in base.fields.items() if eid in present}
    copied: set[int] = set()
    for eid, fid, value in updates:
        if eid not in copied:
            merged[eid] = dict(merged.get(eid, ()))
            copied.add(eid)
        merged[eid][fid] = value
    return merged


from netcode.snapshot_decode import decode, prediction_spacing  # noqa: E402,F401 - one import place for both halves
