"""Static-model rANS (range asymmetric numeral systems) over small alphabets, for the snapshot
codec: symbols cost close to their information content under a model both sides share (a table
of frequencies per *group*, summing to ``1 << SCALE_BITS``), where a bit packer pays whole bits.

32-bit state, renormalised a byte at a time (Fabian Giesen's ``rans_byte`` layout): the encoder
runs over the symbols backwards and the decoder reads them forwards. Encoding prepares
(start, frequency) pairs in numpy and runs one Python loop; decoding runs one Python loop per
batch of symbols whose groups are known. The decoder refuses a stream that ends early or that
does not come back to the encoder's initial state (a cut or changed stream), with ProtocolError.
"""
from __future__ import annotations

from bisect import bisect_right

import numpy as np

from netcode.wire import ProtocolError

SCALE_BITS = 14
SCALE = 1 << SCALE_BITS
_LOW = 1 << 23                      # the state stays in [_LOW, _LOW << 8) between symbols
_X_MAX_UNIT = (_LOW >> SCALE_BITS) << 8


def frequencies(counts: np.ndarray, alphabet: np.ndarray) -> np.ndarray:
    """(groups, symbols) counts -> cumulative frequency tables (groups, symbols + 1). Every symbol
    inside a group's alphabet (``alphabet[g]`` symbols) gets at least 1, the rest 0; each row sums
    to SCALE. Integer arithmetic only: both sides get the same tables on any machine."""
    groups, nsym = counts.shape
    valid = np.arange(nsym)[None, :] < alphabet[:, None]
    counts = np.where(valid, counts.astype(np.int64), 0)
    n_valid = valid.sum(axis=1, keepdims=True)
    total = np.maximum(counts.sum(axis=1, keepdims=True), 1)
    freq = valid.astype(np.int64) + counts * (SCALE - n_valid) // total
    freq[np.arange(groups), np.argmax(freq, axis=1)] += SCALE - freq.sum(axis=1)
    cum = np.zeros((groups, nsym + 1), np.int64)
    np.cumsum(freq, axis=1, out=cum[:, 1:])
    return cum


class RansEncoder:
    """Collects symbols (by group, under cumulative tables ``cum``), writes them in ``bytes()``."""

    def __init__(self, cum: np.ndarray) -> None:
        self.cum = cum
        self._starts: list[np.ndarray] = []
        self._freqs: list[np.ndarray] = []

    def add(self, groups: np.ndarray | int, symbols: np.ndarray) -> None:
        symbols = np.asarray(symbols, np.int64).reshape(-1)
        if not symbols.size:
            return
        groups = np.broadcast_to(np.asarray(groups, np.int64), symbols.shape)
        starts = self.cum[groups, symbols]
        freqs = self.cum[groups, symbols + 1] - starts
        if np.any(freqs <= 0):
            raise ValueError("a symbol outside its group's alphabet")
        self._starts.append(starts)
        self._freqs.append(freqs)

    def bytes(self) -> bytes:
        if not self._starts:
            return b""
        starts = np.concatenate(self._starts)[::-1].tolist()
        freqs = np.concatenate(self._freqs)[::-1].tolist()
        out = bytearray()
        x = _LOW
        for start, freq in zip(starts, freqs):
            x_max = _X_MAX_UNIT * freq
            while x >= x_max:
                out.append(x & 0xFF)
                x >>= 8
            q, r = divmod(x, freq)
            x = (q << SCALE_BITS) + r + start
        out += x.to_bytes(4, "little")
        out.reverse()
        return bytes(out)


class RansDecoder:
    """Reads symbols back from ``data`` under the same tables; ``end()`` checks it all came back."""

    def __init__(self, data: bytes, cum: np.ndarray, where: str = "snapshot.coded") -> None:
        self.where = where
        self._data = data
        self._rows = cum.tolist()
        self._pos = 4
        if not data:
            self._x = _LOW
            self._pos = 0
        elif len(data) < 4:
            raise ProtocolError(where, f"at least 4 bytes of coded symbols (got {len(data)})")
        else:
            self._x = int.from_bytes(data[:4], "big")
            if not _LOW <= self._x < _LOW << 8:
                raise ProtocolError(where, "a coder state in range at the start")

    def use(self, cum: np.ndarray) -> None:
        """Decode the symbols from here on under other tables (the encoder switched at the same point)."""
        self._rows = cum.tolist()

    def decode(self, groups: np.ndarray | list[int]) -> np.ndarray:
        """One symbol per entry of ``groups`` (group ids), in order."""
        groups = groups.tolist() if isinstance(groups, np.ndarray) else groups
        if not groups:
            return np.zeros(0, np.int64)
        if not self._data:
            raise ProtocolError(self.where, f"{len(groups)} coded symbols (there are none)")
        rows, data, n = self._rows, self._data, len(self._data)
        x, pos = self._x, self._pos
        mask = SCALE - 1
        out = [0] * len(groups)
        for i, g in enumerate(groups):
            cum = rows[g]
            slot = x & mask
            s = bisect_right(cum, slot) - 1
            start = cum[s]
            x = (cum[s + 1] - start) * (x >> SCALE_BITS) + slot - start
            while x < _LOW:
                if pos >= n:
                    raise ProtocolError(self.where, "more coded bytes (the stream is cut)")
                x = (x << 8) | data[pos]
                pos += 1
            out[i] = s
        self._x, self._pos = x, pos
        return np.asarray(out, np.int64)

    def end(self) -> None:
        if self._data and (self._x != _LOW or self._pos != len(self._data)):
            raise ProtocolError(self.where, "a stream that ends where its symbols do (it was changed or cut)")
