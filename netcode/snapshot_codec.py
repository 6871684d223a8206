"""The snapshot codec: a client's view of the world (quantised transforms and replicated field
values per entity) as a delta against the last view that client acknowledged.

Per entity the server sends nothing when it matches the baseline; otherwise its position as the
difference from a linear prediction (the baseline going on as it moved from an older view), its
orientation as the difference of the smallest-three parts from the baseline's (absolute when the
largest component changed), and its changed field values. Entities of the baseline are split
into *motion classes* by their predicted step; each class lists its sent (or, when most of it
was sent, its unsent) entities as relative indices. New entities are coded against the entity
before them in the packet. Every value is coded as its bit length (a symbol, entropy coded with
rANS under statistics the baseline carries: netcode/snapshot_model.py) and its lower bits (raw).
With a *packet budget*, entities are taken in order of their accumulated priority until the
budget is spent; the rest keep their baseline values on both sides and wait for the next packet.

Both sides build the new view with ``_assemble`` from the same inputs, so the server knows
exactly what a client will have once it acknowledges the packet (per-client baselines).
Layout of a payload (bits MSB-first; see docs/protocol.md for every step):

    varint  raw-bit section length in bytes, then the raw bits
    varint  coded section length in bytes, then the rANS bytes
    bytes   field updates: varint count, then (varint id gap, varint field id, value) each
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from netcode import snapshot_model as sm
from netcode import snapshot_new
from netcode.bits import BitWriter, bits_for, zigzag
from netcode.quantize import TransformSpec
from netcode.rans import RansEncoder
from netcode.snapshot_fields import MAX_FIELD_UPDATES, FieldCodec, write_fields
from netcode.wire import ByteWriter

COUNT_BITS = 20
MAX_ENTITIES = (1 << COUNT_BITS) - 1
__all__ = ["COUNT_BITS", "MAX_ENTITIES", "MAX_FIELD_UPDATES", "FieldCodec", "View", "Encoded", "TransformCache",
           "encode", "decode", "prediction_spacing", "member"]


@dataclass
class View:
    """What one client has of the world at one tick: ids sorted, quantised transforms by row,
    replicated field values (quantised) per entity id, and the coding statistics of the packet
    that made it (None: the prior, for views that were not decoded from or encoded to a packet)."""

    ids: np.ndarray
    pos: np.ndarray
    largest: np.ndarray
    parts: np.ndarray
    fields: dict[int, dict[int, Any]] = field(default_factory=dict)
    stats: sm.Stats | None = None

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


@dataclass
class Encoded:
    """One encoded payload and the view the client will hold once it has it."""

    payload: bytes
    view: View
    sent: int           # entities whose transform was written
    field_updates: int


class TransformCache:
    """Transform sections already encoded this tick, by the identity of their inputs (the arrays
    of the current view, the baseline and the prediction view, the baseline's statistics and the
    spacing): clients that share them get the same bits. Holds its inputs so that no identity is
    reused while cached."""

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
        stats = base.stats.key if base is not None and base.stats is not None else b""
        return (*ident(current), *ident(base), *ident(previous), stats, spacing)

    def get(self, key: tuple) -> tuple[bytes, View, int] | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        return entry[1], entry[2], entry[3]

    def put(self, key: tuple, held: Any, bits: bytes, view: View, sent: int) -> None:
        self._entries[key] = (held, bits, view, sent)


def encode(current: View, baseline: View | None, spec: TransformSpec, schema: FieldCodec,
           priority: np.ndarray | None = None, budget_bits: int | None = None,
           previous: View | None = None, spacing: tuple[int, int] = (0, 0),
           cache: TransformCache | None = None) -> Encoded:
    """Encode ``current`` against ``baseline`` (None: against nothing, every entity new).
    ``priority`` (one value per row of ``current``) orders entities when ``budget_bits`` limits the
    transform section; without a budget everything that changed is sent. With ``previous`` (an
    older view the client also acknowledged) and ``spacing`` = (ticks from baseline to now, ticks
    from previous to baseline), positions are coded against a linear prediction from the two.
    ``cache`` (only without a budget) shares transform sections between clients (see TransformCache)."""
    base = baseline if baseline is not None else View.empty()
    if cache is not None and budget_bits is None:
        key = cache.key(current, baseline, previous, spacing)
        hit = cache.get(key)
        if hit is None:
            section, tview, sent = _encode_transforms(current, base, baseline, spec, None, None, previous, spacing)
            cache.put(key, (current, baseline, previous), section, tview, sent)
        else:
            section, tview, sent = hit
        return _with_fields(current, base, section, tview, sent, schema, cache.fields)
    section, tview, sent = _encode_transforms(current, base, baseline, spec, priority, budget_bits, previous, spacing)
    return _with_fields(current, base, section, tview, sent, schema)


def _with_fields(current: View, base: View, section: bytes, tview: View, sent: int, schema: FieldCodec,
                 shared: dict | None = None) -> Encoded:
    view = View(tview.ids, tview.pos, tview.largest, tview.parts, stats=tview.stats)
    present = set(view.ids.tolist())
    fields_out, count, results = write_fields(current.fields, base.fields, present, schema, shared)
    merged = {eid: values for eid, values in base.fields.items() if eid in present}
    merged.update(results)
    view.fields = merged
    return Encoded(section + fields_out, view, sent, count)


def _encode_transforms(current: View, base: View, baseline: View | None, spec: TransformSpec,
                       priority: np.ndarray | None, budget_bits: int | None, previous: View | None,
                       spacing: tuple[int, int]) -> tuple[bytes, View, int]:
    """The transform sections' bytes, the transforms the client will hold, entities sent."""
    ahead, behind = spacing if previous is not None and baseline is not None else (0, 0)
    if not (0 < ahead < 1 << 12 and 0 < behind < 1 << 12):
        ahead = behind = 0
    if len(current) > MAX_ENTITIES:
        raise ValueError(f"a view holds at most {MAX_ENTITIES} entities")
    predicted = sm.predict(base.pos, base.ids, previous if ahead else None, ahead, behind, spec)
    in_base = member(current.ids, base.ids)
    brow = np.where(in_base, np.minimum(np.searchsorted(base.ids, current.ids), max(len(base) - 1, 0)), 0)
    removed = ~member(base.ids, current.ids)
    changed = np.ones(len(current), bool)
    if len(base):
        changed = ((current.pos != base.pos[brow]).any(axis=1) | (current.parts != base.parts[brow]).any(axis=1)
                   | (current.largest != base.largest[brow]) | ~in_base)
    chosen = changed.copy()
    if budget_bits is not None and priority is not None and chosen.any():
        chosen = _within_budget(chosen, current, base, in_base, brow, predicted, removed, priority, budget_bits)
    tables = sm.tables(base.stats)
    for _ in range(10):
        section, view = _write(current, base, spec, in_base, brow, removed, predicted, chosen, (ahead, behind), tables)
        sent = int(chosen.sum())
        if budget_bits is None or priority is None or len(section) * 8 <= budget_bits or not sent:
            break
        # over the budget: keep the share of the highest priorities that the budget pays for
        rows = np.flatnonzero(chosen)
        keep = min(len(rows) - 1, int(len(rows) * budget_bits * 0.95 / (len(section) * 8)))
        chosen[rows[np.argsort(priority[rows], kind="stable")][: len(rows) - keep]] = False
    if _same_transforms(view, current):   # everything that changed was sent: share the current arrays
        view = View(current.ids, current.pos, current.largest, current.parts, stats=view.stats)
    return section, view, sent


def _same_transforms(a: View, b: View) -> bool:
    return (len(a.ids) == len(b.ids) and np.array_equal(a.ids, b.ids) and np.array_equal(a.pos, b.pos)
            and np.array_equal(a.largest, b.largest) and np.array_equal(a.parts, b.parts))


def _within_budget(chosen: np.ndarray, current: View, base: View, in_base: np.ndarray, brow: np.ndarray,
                   predicted: np.ndarray, removed: np.ndarray, priority: np.ndarray, budget_bits: int) -> np.ndarray:
    """The changed entities of highest priority whose estimated cost fits the budget."""
    rows = np.flatnonzero(chosen)
    if len(base):
        residual = np.where(in_base[rows, None], current.pos[rows] - predicted[brow[rows]], 1 << 16)
        turn = np.where(in_base[rows, None], current.parts[rows] - base.parts[brow[rows]], 1 << 8)
    else:
        residual, turn = np.full((len(rows), 3), 1 << 16), np.full((len(rows), 3), 1 << 8)
    lengths = (sm.bit_length(zigzag(residual)) + 1).sum(axis=1) + (sm.bit_length(zigzag(turn)) + 1).sum(axis=1)
    cost = 8 + 3 * lengths // 2          # a rough guess: the caller measures and trims what does not fit
    by_priority = np.argsort(-priority[rows], kind="stable")
    room = budget_bits - 160 - int(removed.sum()) * bits_for(max(len(base), 1))
    keep = rows[by_priority][np.cumsum(cost[by_priority]) <= room]
    out = np.zeros(len(current), bool)
    out[keep] = True
    return out


def _varint(value: int) -> bytes:
    return ByteWriter().varint(value).bytes()


class _Coded:
    """The symbols of one packet, in coding order, and the counts they add to the statistics."""

    def __init__(self, tables: np.ndarray) -> None:
        self.coder = RansEncoder(tables)
        self.groups: list[np.ndarray] = []
        self.symbols: list[np.ndarray] = []

    def symbols_of(self, groups: np.ndarray | int, symbols: np.ndarray) -> None:
        """Code ``symbols`` as they are (each inside its group's alphabet)."""
        symbols = np.asarray(symbols, np.int64).reshape(-1)
        groups = np.asarray(groups, np.int64)
        groups = np.broadcast_to(groups.reshape(-1) if groups.ndim else groups, symbols.shape)
        self.coder.add(groups, symbols)
        self.groups.append(np.array(groups))
        self.symbols.append(symbols)

    def add(self, groups: np.ndarray | int, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Code the bit lengths of non-negative ``values``; returns their raw low bits and widths."""
        symbols, low, widths = sm.split(np.asarray(values, np.int64).reshape(-1))
        self.symbols_of(groups, symbols)
        return low, widths


def _write(current: View, base: View, spec: TransformSpec, in_base: np.ndarray, brow: np.ndarray,
           removed: np.ndarray, predicted: np.ndarray, chosen: np.ndarray, spacing: tuple[int, int],
           tables: np.ndarray) -> tuple[bytes, View]:
    """The transform sections (see docs/protocol.md for the order) and the view they give."""
    g = sm.GROUP
    removed_rows = np.flatnonzero(removed)
    sent = np.flatnonzero(chosen)
    new_rows = sent[~in_base[sent]]
    new = snapshot_new.plan(current.ids[new_rows], current.pos[new_rows], current.parts[new_rows], tables, spec)
    out, coded, raw = BitWriter(), _Coded(new.tables(tables)), []
    out.write(spacing[0], 12)
    out.write(spacing[1], 12)
    out.write(*coded.add(g["sizes"], np.asarray([len(removed_rows), len(new_rows)])))
    out.write(removed_rows, bits_for(max(len(base), 1)))
    new.write_header(out, len(new_rows))
    # which baseline entities are sent: per motion class, a list of the sent (or unsent) ones
    sent_rows = sent[in_base[sent]]                       # current rows; their baseline rows ascend
    sent_base = brow[sent_rows]
    cls = sm.motion_class(base.pos, predicted)
    is_sent = np.zeros(len(base), bool)
    is_sent[sent_base] = True
    kept = ~removed
    listed_counts, gap_groups, gaps = [], [], []
    for c in range(sm.CLASSES):
        members = kept & (cls == c)
        if not members.any():
            continue
        flags = is_sent[members]
        polarity = int(2 * int(flags.sum()) > len(flags))
        listed = np.flatnonzero(flags != bool(polarity))
        out.write(polarity, 1)
        listed_counts.append(len(listed))
        gap_groups.append(np.full(len(listed), g["gap"] + 2 * c + polarity))
        gaps.append(np.diff(np.concatenate(([-1], listed))) - 1)
    raw.append(coded.add(g["count"], np.asarray(listed_counts, np.int64)))
    if gaps:
        raw.append(coded.add(np.concatenate(gap_groups), np.concatenate(gaps)))
    for low, widths in raw:
        out.write(low, widths)
    raw.clear()
    # per sent baseline entity: its kind, then position residuals and orientation deltas
    c_sent = cls[sent_base]
    residual = current.pos[sent_rows] - predicted[sent_base]
    moved = (residual != 0).any(axis=1)
    same_l = current.largest[sent_rows] == base.largest[sent_base]
    turn = current.parts[sent_rows] - base.parts[sent_base]
    quat_kind = np.where(same_l, np.where((turn != 0).any(axis=1), 1, 0), 2)
    coded.symbols_of(g["kind"] + c_sent, moved * 3 + quat_kind)
    axis_group = np.stack([g["pos_xy"] + c_sent, g["pos_xy"] + c_sent, g["pos_z"] + c_sent], axis=1)
    raw.append(coded.add(axis_group[moved], zigzag(residual[moved])))
    delta = quat_kind == 1
    part_group = g["quat"] + np.arange(3)[None, :] * sm.CLASSES + c_sent[:, None]
    raw.append(coded.add(part_group[delta], zigzag(turn[delta])))
    absolute = sent_rows[quat_kind == 2]
    raw.append((np.stack([current.largest[absolute], *current.parts[absolute].T], axis=1).reshape(-1),
                np.tile([2, spec.quat_bits, spec.quat_bits, spec.quat_bits], len(absolute))))
    # new entities: id gaps, then positions, largest components and parts (snapshot_new.py)
    raw.append(coded.add(g["new_gap"], np.diff(np.concatenate(([0], current.ids[new_rows]))) - 1))
    if new.pos_mode:
        raw.append(coded.add(np.tile([g["new_xy"], g["new_xy"], g["new_z"]], len(new_rows)), new.pos_values))
    else:
        raw.append((new.pos_values, np.tile(spec.pos_bits, len(new_rows))))
    raw.append((current.largest[new_rows], np.full(len(new_rows), 2)))
    raw.append(coded.add(g["new_quat"], new.part_values) if new.part_mode else (new.part_values, spec.quat_bits))
    for low, widths in raw:
        out.write(low, widths)
    bits, symbols = out.bytes(), coded.coder.bytes()
    stats = sm.Stats.of(sm.count(coded.groups, coded.symbols), base.stats)
    ids = current.ids[sent]
    view = _assemble(base, removed, ids, current.pos[sent], current.largest[sent], current.parts[sent])
    view.stats = stats
    return _varint(len(bits)) + bits + _varint(len(symbols)) + symbols, view


def _assemble(base: View, removed: np.ndarray, ids: np.ndarray, pos: np.ndarray, largest: np.ndarray,
              parts: np.ndarray) -> View:
    """The new view: the baseline without ``removed`` rows, with the sent rows put in or over."""
    keep = ~removed
    kept_ids = base.ids[keep]
    stale = ~member(kept_ids, ids)
    all_ids = np.concatenate([kept_ids[stale], ids])
    order = np.argsort(all_ids, kind="stable")
    return View(all_ids[order],
                np.concatenate([base.pos[keep][stale], pos])[order],
                np.concatenate([base.largest[keep][stale], largest])[order],
                np.concatenate([base.parts[keep][stale], parts])[order])


from netcode.snapshot_decode import decode, prediction_spacing  # noqa: E402 - one import place for both halves
