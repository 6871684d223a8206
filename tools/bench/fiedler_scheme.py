"""Glenn Fiedler's bit-packed snapshot encoding ("Snapshot Compression", 2015), as a bit count:
the peer that ``snapshots.py`` runs on the same packets as Storm's codec.

Per packet: a mode bit, then either one changed bit per cube or a 10-bit count and the changed
cubes' indices (the first in 10 bits, then the offset from the one before: 1-8 in 1 + 3 bits,
9-40 in 1 + 1 + 5, more in 1 + 1 + 10), whichever is smaller. Per changed cube: a position-changed
bit, then a relative bit and per axis a small bit and the delta from the baseline in 5 bits
([-16, 15]) or 9 ([-256, 255]), or the absolute position (18 + 18 + 14 bits) when a delta is
outside that; an orientation-changed bit, then a relative bit (the same largest component and
every part's delta in range) and per part a small bit and the delta in 5 bits or 8 ([-128, 127]),
or the absolute smallest three (2 + 3 x 9 bits). Against no baseline every cube is absolute
(79 bits). His cubes also carry an ``interacting`` bit, which Storm's do not: it is left out.
"""
from __future__ import annotations

import numpy as np

from netcode.snapshot_codec import View

ABSOLUTE_CUBE_BITS = 18 + 18 + 14 + 2 + 27


def _index_bits(changed_rows: np.ndarray) -> int:
    if not len(changed_rows):
        return 10
    offsets = np.diff(changed_rows)
    per = np.where(offsets <= 8, 4, np.where(offsets <= 40, 7, 12))
    return 10 + 10 + int(per.sum())


def _delta_bits(delta: np.ndarray, small: int, large: int) -> tuple[np.ndarray, np.ndarray]:
    """Bits of relative deltas per cube (1 relative bit + per component 1 + width) and whether they fit."""
    fits_small = (delta >= -(1 << (small - 1))) & (delta < 1 << (small - 1))
    fits = ((delta >= -(1 << (large - 1))) & (delta < 1 << (large - 1))).all(axis=1)
    return 1 + (1 + np.where(fits_small, small, large)).sum(axis=1), fits


def packet_bits(current: View, baseline: View | None) -> int:
    """The bits of one packet of ``current`` against ``baseline`` (same ids in the same order)."""
    if baseline is None:
        return 1 + len(current) * ABSOLUTE_CUBE_BITS
    pos_changed = (current.pos != baseline.pos).any(axis=1)
    quat_changed = (current.parts != baseline.parts).any(axis=1) | (current.largest != baseline.largest)
    changed = pos_changed | quat_changed
    rows = np.flatnonzero(changed)
    bits = 1 + min(len(current), _index_bits(rows))
    pos_rel, pos_fits = _delta_bits(current.pos[rows] - baseline.pos[rows], 5, 9)
    pos_cost = np.where(pos_fits, pos_rel, 1 + 50)
    same_l = current.largest[rows] == baseline.largest[rows]
    quat_rel, quat_fits = _delta_bits(current.parts[rows] - baseline.parts[rows], 5, 8)
    quat_cost = np.where(same_l & quat_fits, quat_rel, 1 + 29)
    bits += int((1 + np.where(pos_changed[rows], pos_cost, 0)).sum())
    bits += int((1 + np.where(quat_changed[rows], quat_cost, 0)).sum())
    return bits
