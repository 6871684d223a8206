"""Entities a snapshot brings that its baseline lacks (a joining client's first snapshots, an area
of interest moving on), coded against each other in id order. Both halves of the codec use it.

Positions travel absolute (scattered entities), as the difference from the entity before (a
row), or as the difference from the line through the two before (a grid: the step repeats);
orientations absolute or as the difference from the entity before. The sender picks what costs
least. With ``MIN_FOR_TABLES`` new entities or more, a group's symbols may come with their own
frequency table for this packet (4 bits per symbol of its alphabet: a count's bit length), for a
first snapshot is coded before the statistics have seen anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from netcode import snapshot_model as sm
from netcode.bits import BitReader, BitWriter, unzigzag, zigzag
from netcode.quantize import TransformSpec
from netcode.rans import SCALE_BITS, frequencies
from netcode.wire import ProtocolError

MIN_FOR_TABLES = 16
_TABLE_GROUPS = ("new_gap", "new_xy", "new_z", "new_quat")


def _differences(values: np.ndarray, order: int) -> np.ndarray:
    for _ in range(order):
        values = np.diff(np.concatenate([np.zeros((1, values.shape[1]), np.int64), values]), axis=0)
    return values


def _sums(residuals: np.ndarray, order: int) -> np.ndarray:
    for _ in range(order):
        residuals = np.cumsum(residuals, axis=0)
    return residuals


def _table_row(levels: np.ndarray, group: int) -> np.ndarray:
    weights = np.zeros(sm.NSYM, np.int64)
    weights[: len(levels)] = np.where(levels > 0, np.int64(1) << np.maximum(levels - 1, 0), 0)
    return frequencies(weights[None, :], sm.ALPHABET[group:group + 1])[0]


def _levels(symbols: np.ndarray, group: int) -> np.ndarray:
    counts = np.bincount(symbols, minlength=sm.ALPHABET[group])[: sm.ALPHABET[group]]
    return np.minimum(sm.bit_length(counts), 15)


def _bits(cum_row: np.ndarray, values: np.ndarray) -> float:
    symbols, _, widths = sm.split(values.reshape(-1))
    return float(np.sum(SCALE_BITS - np.log2(cum_row[symbols + 1] - cum_row[symbols])) + widths.sum())


@dataclass
class NewEntities:
    """How this packet's new entities travel: modes, per-packet tables, and the values to code."""

    pos_mode: int = 0                  # 0 absolute, 1 from the one before, 2 from the line through two
    part_mode: int = 0                 # 0 absolute, 1 from the one before
    levels: dict[int, np.ndarray] = field(default_factory=dict)   # group -> table levels
    pos_values: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    part_values: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def tables(self, cum: np.ndarray) -> np.ndarray:
        """``cum`` with this packet's own rows put in."""
        if not self.levels:
            return cum
        cum = cum.copy()
        for group, levels in self.levels.items():
            cum[group] = _table_row(levels, group)
        return cum

    def write_header(self, out: BitWriter, count: int) -> None:
        if not count:
            return
        out.write(self.pos_mode, 2)
        out.write(self.part_mode, 1)
        if count >= MIN_FOR_TABLES:
            for name in _TABLE_GROUPS:
                group = sm.GROUP[name]
                out.write(int(group in self.levels), 1)
                if group in self.levels:
                    out.write(self.levels[group], 4)


def plan(ids: np.ndarray, pos: np.ndarray, parts: np.ndarray, cum: np.ndarray, spec: TransformSpec) -> NewEntities:
    """The cheapest way for the sender (estimated from the tables' code lengths)."""
    n = len(ids)
    out = NewEntities()
    if not n:
        return out
    g = sm.GROUP
    tables_allowed = n >= MIN_FOR_TABLES

    def best(name: str, values: np.ndarray) -> tuple[float, np.ndarray | None]:
        group = g[name]
        model = _bits(cum[group], values)
        if not tables_allowed:
            return model, None
        levels = _levels(sm.split(values.reshape(-1))[0], group)
        own = 1 + 4 * int(sm.ALPHABET[group]) + _bits(_table_row(levels, group), values)
        return (own, levels) if own < model else (model, None)

    def cost_of(names: tuple[str, ...], columns: list[np.ndarray]) -> tuple[float, dict[int, np.ndarray]]:
        total, chosen = 0.0, {}
        for name, values in zip(names, columns):
            bits, levels = best(name, values)
            total += bits
            if levels is not None:
                chosen[g[name]] = levels
        return total, chosen

    gap_bits, gap_levels = best("new_gap", np.diff(np.concatenate(([0], ids))) - 1)
    if gap_levels is not None:
        out.levels[g["new_gap"]] = gap_levels
    options = [(float(n * sum(spec.pos_bits)), 0, {}, pos.reshape(-1))]
    for order in (1, 2):
        values = zigzag(_differences(pos, order)).astype(np.int64)
        bits, levels = cost_of(("new_xy", "new_z"), [values[:, :2], values[:, 2]])
        options.append((bits, order, levels, values.reshape(-1)))
    bits, out.pos_mode, levels, out.pos_values = min(options, key=lambda o: o[0])
    out.levels.update(levels)
    turn = zigzag(_differences(parts, 1)).astype(np.int64)
    bits, levels = cost_of(("new_quat",), [turn])
    if bits < n * 3 * spec.quat_bits:
        out.part_mode, out.part_values = 1, turn.reshape(-1)
        out.levels.update(levels)
    else:
        out.part_values = parts.reshape(-1)
    return out


def read_header(reader: BitReader, count: int) -> NewEntities:
    out = NewEntities()
    if not count:
        return out
    out.pos_mode = reader.read_one(2, "new_modes")
    out.part_mode = reader.read_one(1, "new_modes")
    if out.pos_mode > 2:
        raise ProtocolError("snapshot.new_modes", "a position mode of 0, 1 or 2")
    if count >= MIN_FOR_TABLES:
        for name in _TABLE_GROUPS:
            group = sm.GROUP[name]
            if reader.read_one(1, "new_tables"):
                out.levels[group] = reader.read(4, int(sm.ALPHABET[group]), "new_tables").astype(np.int64)
    return out


def positions(mode: int, values: np.ndarray) -> np.ndarray:
    """Grid cells from what was read: raw cells (mode 0) or zig-zagged residuals."""
    return values.reshape(-1, 3) if mode == 0 else _sums(unzigzag(values).reshape(-1, 3), mode)


def orientations(mode: int, values: np.ndarray) -> np.ndarray:
    return values.reshape(-1, 3) if mode == 0 else _sums(unzigzag(values).reshape(-1, 3), 1)
