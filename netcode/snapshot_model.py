"""What both halves of the snapshot codec share about *how likely* each coded value is: the symbol
groups, each entity's motion class, the adaptive statistics a view carries, and the split of a
value into a coded symbol (its bit length) and raw low bits.

A value ``z >= 0`` travels as the symbol ``s = bit_length(z)`` (entropy coded, netcode/rans.py)
and, for ``s >= 2``, its ``s - 1`` bits under the top one (raw). Signed values are zig-zagged first.

Statistics: every view holds the symbol counts of the packet that made it and of the packets of
its baseline chain before that (``WINDOW`` in all). A packet is coded under the counts its
baseline holds, so the model follows the scene (a pile of cubes at rest, a cube thrown across it)
at no cost in bits, and two clients whose last ``WINDOW`` packets were the same share models
again (the server can still encode once for both).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from netcode.quantize import TransformSpec
from netcode.rans import frequencies

if TYPE_CHECKING:
    from netcode.snapshot_codec import View

WINDOW = 3
COUNT_CAP = 4095                      # per symbol per packet (counts are kept as uint16)
COUNT_WEIGHT = 16                     # one occurrence against the prior's 1 to 16 per symbol
NSYM = 33                             # bit lengths 0..32
CLASSES = 6
# motion class by the bit length of the predicted step (largest axis, grid cells)
_CLASS_OF_LENGTH = np.array([0, 1, 1, 2, 2, 3, 3, 4] + [5] * 26, np.int64)


def _layout() -> tuple[dict[str, int], np.ndarray]:
    groups: dict[str, int] = {}
    alphabet: list[int] = []

    def add(name: str, count: int, size: int) -> None:
        groups[name] = len(alphabet)
        alphabet.extend([size] * count)
    add("sizes", 1, 22)                 # how many entities are removed, how many are new
    add("count", 1, 22)                 # how many entities a class lists
    add("gap", CLASSES * 2, 22)         # id gaps in a class's list (of sent, or of unsent, entities)
    add("kind", CLASSES, 6)             # per sent entity: position at prediction or not x orientation same/delta/absolute
    add("pos_xy", CLASSES, 27)
    add("pos_z", CLASSES, 27)
    add("quat", 3 * CLASSES, 18)        # per smallest-three part
    add("new_gap", 1, 33)               # entities not in the baseline: id gaps,
    add("new_xy", 1, 29)                # positions against the entities before,
    add("new_z", 1, 29)
    add("new_quat", 1, 18)              # part deltas from the entity before
    return groups, np.asarray(alphabet, np.int64)


GROUP, ALPHABET = _layout()
GROUPS = len(ALPHABET)
# before anything is seen: bit lengths up to 12 likelier than longer ones (worth a few occurrences)
PRIOR = np.where(np.arange(NSYM) <= 12, 4, 1)[None, :].repeat(GROUPS, axis=0)


@dataclass(frozen=True)
class Stats:
    """Symbol counts (uint16, groups x NSYM) of the newest packets of a view's baseline chain,
    newest first; ``key`` names their contents (equal windows, equal keys)."""

    window: tuple[np.ndarray, ...]
    key: bytes

    @classmethod
    def of(cls, counts: np.ndarray, base: "Stats | None") -> "Stats":
        window = (counts, *(base.window[: WINDOW - 1] if base is not None else ()))
        digest = hashlib.blake2b(digest_size=16)
        for part in window:
            digest.update(part.tobytes())
        return cls(window, digest.digest())


def tables(stats: Stats | None) -> np.ndarray:
    """Cumulative frequency tables to code a packet against a baseline holding ``stats``."""
    counts = np.zeros((GROUPS, NSYM), np.int64)
    for part in stats.window if stats is not None else ():
        counts += part
    return frequencies(PRIOR + COUNT_WEIGHT * counts, ALPHABET)


def count(groups: list[np.ndarray], symbols: list[np.ndarray]) -> np.ndarray:
    """The counts a packet adds: every (group, symbol) it coded."""
    if not groups:
        return np.zeros((GROUPS, NSYM), np.uint16)
    flat = np.concatenate(groups) * NSYM + np.concatenate(symbols)
    return np.minimum(np.bincount(flat, minlength=GROUPS * NSYM), COUNT_CAP).astype(np.uint16).reshape(GROUPS, NSYM)


def bit_length(values: np.ndarray) -> np.ndarray:
    """Bit length of each non-negative integer (exact below 2**53)."""
    values = np.asarray(values, dtype=np.int64)
    return np.where(values > 0, np.frexp(values.astype(np.float64))[1], 0).astype(np.int64)


def split(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-negative values -> (symbols, raw low bits, their widths)."""
    values = np.asarray(values, dtype=np.int64)
    symbols = bit_length(values)
    widths = np.maximum(symbols - 1, 0)
    low = np.where(symbols > 1, values - (np.int64(1) << widths), 0)
    return symbols, low, widths


def join(symbols: np.ndarray, low: np.ndarray) -> np.ndarray:
    """The inverse of ``split``."""
    widths = np.maximum(symbols - 1, 0)
    return np.where(symbols > 0, (np.int64(1) << widths) + low.astype(np.int64), 0)


def raw_widths(symbols: np.ndarray) -> np.ndarray:
    return np.maximum(symbols - 1, 0)


def predict(base_pos: np.ndarray, base_ids: np.ndarray, previous: "View | None", ahead: int, behind: int,
            spec: TransformSpec) -> np.ndarray:
    """Where each baseline entity should be ``ahead`` ticks after the baseline, going on as it went
    from ``previous`` (a view ``behind`` ticks older): integer arithmetic, the same on both sides.
    Entities not in ``previous`` are predicted to stay."""
    if previous is None or not ahead or not len(base_pos) or not len(previous.ids):
        return base_pos
    prow = np.minimum(np.searchsorted(previous.ids, base_ids), len(previous.ids) - 1)
    in_prev = previous.ids[prow] == base_ids
    step = np.where(in_prev[:, None], base_pos - previous.pos[prow], 0)
    pos = base_pos + np.floor_divide(step * ahead + behind // 2, behind)
    top = np.asarray([(1 << b) - 1 for b in spec.pos_bits])
    return np.clip(pos, 0, top)


def motion_class(base_pos: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """0 (predicted to stay) .. CLASSES - 1 (predicted to move far) per baseline entity."""
    if not len(base_pos):
        return np.zeros(0, np.int64)
    step = np.abs(predicted - base_pos).max(axis=1)
    return _CLASS_OF_LENGTH[np.minimum(bit_length(step), len(_CLASS_OF_LENGTH) - 1)]
