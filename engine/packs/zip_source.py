"""Zipped packs, read in place: the central directory is parsed and checked when the pack is
opened, and each entry is inflated only when it is read, chunk by chunk, never past the size its
headers claim (which must itself be within the read budget).

The central directory is parsed here rather than by ``zipfile``: zipfile keeps only the part of a
name before a NUL, inflates bzip2 and LZMA entries without an output limit, and builds an object
per record before anyone can count them. Only stored and deflated entries are read. Refused when
the pack is opened: zip64 and multi-disk archives, data before the first entry (a program glued
in front), more records than the entry budget, symlink and other non-file entries, encrypted
entries, claimed sizes over the budget, entries whose data overlap (a zip-bomb trick), names that
break ``path_rules`` or are not UTF-8, and two names for one file.
"""
from __future__ import annotations

import os
import stat
import struct
import zlib
from pathlib import Path

from engine.core.errors import DataError
from engine.packs.path_rules import is_hidden, name_problem
from engine.packs.sources import (
    CHUNK,
    READ_FLAGS,
    Budgets,
    NameChecker,
    PackRefused,
    PackSource,
    budget_hint,
    file_type,
)

_EOCD = struct.Struct("<4s4H2LH")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_STORED, _DEFLATED = 0, 8


class _ZipEntry:
    __slots__ = ("raw", "flags", "method", "crc", "csize", "usize", "offset")

    def __init__(self, raw: bytes, flags: int, method: int, crc: int, csize: int, usize: int, offset: int) -> None:
        self.raw, self.flags, self.method, self.crc = raw, flags, method, crc
        self.csize, self.usize, self.offset = csize, usize, offset


class ZipSource(PackSource):
    """A pack that is one ``.zip`` file, read in place: the central directory is checked when the
    pack is opened, and each entry is inflated only when it is read."""

    kind = "zip"

    def __init__(self, path: Path, budgets: Budgets) -> None:
        super().__init__(path)
        self._entries: dict[str, _ZipEntry] = {}
        try:
            self._fd = os.open(path, READ_FLAGS)
        except OSError as exc:
            raise self.refuse("", f"a readable zip file ({exc.strerror})") from None
        try:
            info = os.fstat(self._fd)
            if not stat.S_ISREG(info.st_mode):
                raise self.refuse("", f"a zip file (this is {file_type(info.st_mode)})")
            self._stamp = (info.st_mtime_ns, info.st_size)
            self._index(info.st_size, budgets)
        except BaseException:
            os.close(self._fd)
            raise

    def _index(self, size: int, budgets: Budgets) -> None:
        tail_len = min(size, _EOCD.size + 65535)
        tail = os.pread(self._fd, tail_len, size - tail_len)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < _EOCD.size:
            raise self.refuse("", "a zip file (no end-of-archive record found)")
        _sig, disk, cd_disk, _here, count, cd_size, cd_offset, _comment = _EOCD.unpack_from(tail, at)
        if 0xFFFF in (count, disk) or 0xFFFFFFFF in (cd_size, cd_offset) or tail[max(0, at - 20):at][:4] == b"PK\x06\x07":
            raise self.refuse("", "a zip without zip64 records (a pack holds at most "
                                  f"{budgets.entries} files under 4 GiB)")
        if disk or cd_disk:
            raise self.refuse("", "a zip in one part (not split over disks)")
        if count > budgets.entries:
            raise self.refuse("", f"at most {budgets.entries} files in a pack ({budget_hint('entries')})",
                              f"{count} entries")
        directory_start = size - len(tail) + at - cd_size
        if cd_offset != directory_start or cd_size > count * (_CENTRAL.size + 3 * 65535):
            raise self.refuse("", "a zip whose central directory is where its end record says")
        directory = os.pread(self._fd, cd_size, cd_offset)
        names = NameChecker(self, budgets.entries)
        spans: list[tuple[int, int, str]] = []
        total, pos = 0, 0
        for index in range(count):
            if len(directory) - pos < _CENTRAL.size or directory[pos:pos + 4] != b"PK\x01\x02":
                raise self.refuse(f"entry {index}", "a central directory record (the directory is damaged)")
            (_s, _cv, system, _ev, _r, flags, method, _t, _d, crc, csize, usize, name_len, extra_len, comment_len,
             _disk, _ia, external, offset) = _CENTRAL.unpack_from(directory, pos)
            raw = directory[pos + _CENTRAL.size:pos + _CENTRAL.size + name_len]
            pos += _CENTRAL.size + name_len + extra_len + comment_len
            name = self._decode(raw, flags, index)
            mode = external >> 16 if system == 3 else 0
            if name.endswith("/") and not stat.S_ISLNK(mode):
                problem = name_problem(name[:-1])
                if problem:
                    raise self.refuse(name, problem)
                continue
            self._check_entry(name, mode, flags, method, csize, usize, budgets)
            spans.append((offset, offset + _LOCAL.size + name_len + csize, name))
            if is_hidden(name):
                problem = name_problem(name)
                if problem:
                    raise self.refuse(name, problem)
                continue
            total += usize
            names.add(name, usize)
            self._entries[name] = _ZipEntry(raw, flags, method, crc, csize, usize, offset)
        if pos != len(directory):
            raise self.refuse("", "a central directory that holds as many records as its end record says")
        if total > budgets.pack_bytes:
            raise self.refuse("", f"a pack of at most {budgets.pack_bytes} bytes ({budget_hint('pack_bytes')})",
                              f"{total} bytes")
        spans.sort()
        for (start, end, name), following in zip(spans, spans[1:] + [(cd_offset, 0, "the central directory")]):
            if end > following[0]:
                raise self.refuse(name, f"entries that do not overlap (it runs into {following[2]!r}: a zip-bomb trick)")

    def _decode(self, raw: bytes, flags: int, index: int) -> str:
        if b"\x00" in raw:
            shown = raw.replace(b"\x00", b"\\0").decode("utf-8", "replace")
            raise self.refuse(shown, "a name without NUL characters")
        try:
            return raw.decode("utf-8") if flags & 0x800 else raw.decode("ascii")
        except UnicodeDecodeError:
            shown = raw.decode("utf-8", "replace")
            raise self.refuse(shown, "a UTF-8 file name (the zip's UTF-8 flag is not set, or the name is not "
                                     "UTF-8; 'storm pack build' writes names right)") from None

    def _check_entry(self, name: str, mode: int, flags: int, method: int, csize: int, usize: int,
                     budgets: Budgets) -> None:
        if stat.S_ISLNK(mode):
            raise self.refuse(name, "a regular file, not a symbolic link")
        if mode and not stat.S_ISREG(mode):
            raise self.refuse(name, f"a regular file (this entry is {file_type(mode)})")
        if flags & 0x41:
            raise self.refuse(name, "an entry that is not encrypted")
        if method not in (_STORED, _DEFLATED):
            raise self.refuse(name, "a stored or deflated entry (bzip2, LZMA and others are not read: they "
                                    "cannot be inflated with a bounded output)", f"method {method}")
        if method == _STORED and csize != usize:
            raise self.refuse(name, "a stored entry as long as its size says")
        if usize > budgets.file_bytes:
            raise self.refuse(name, f"a file of at most {budgets.file_bytes} bytes ({budget_hint('file_bytes')})",
                              f"a header that claims {usize} bytes")

    def stamp(self, name: str) -> tuple[int, int]:
        entry = self._entries.get(name)
        return (entry.crc, entry.usize) if entry is not None else (0, -1)

    def changed(self) -> bool:
        try:
            info = os.stat(self.location)
        except OSError:
            return True
        return (info.st_mtime_ns, info.st_size) != self._stamp

    def read(self, name: str, budget: int) -> bytes:
        entry = self._entries.get(name)
        where = self.display(name)
        if entry is None:
            raise DataError(where, "", "an existing file")
        if entry.usize > budget:
            raise DataError(where, "", f"a file of at most {budget} bytes ({budget_hint('file_bytes')})",
                            f"a header that claims {entry.usize} bytes")
        header = os.pread(self._fd, _LOCAL.size, entry.offset)
        if len(header) < _LOCAL.size or header[:4] != b"PK\x03\x04":
            raise DataError(where, "", "a local file header where the central directory points (the zip is damaged)")
        fields = _LOCAL.unpack(header)
        method, name_len, extra_len = fields[4], fields[10], fields[11]
        if method != entry.method or os.pread(self._fd, name_len, entry.offset + _LOCAL.size) != entry.raw:
            raise DataError(where, "", "a local header that matches the central directory (the zip is damaged)")
        start = entry.offset + _LOCAL.size + name_len + extra_len
        data = self._inflate(entry, start, entry.usize, where) if method == _DEFLATED else self._stored(entry, start, where)
        if len(data) != entry.usize:
            raise DataError(where, "", f"{entry.usize} bytes, as its header claims", f"{len(data)} bytes")
        if zlib.crc32(data) != entry.crc:
            raise DataError(where, "", "data that matches its CRC-32 (the entry is damaged)")
        return data

    def _stored(self, entry: _ZipEntry, start: int, where: str) -> bytes:
        data = os.pread(self._fd, entry.csize, start)
        if len(data) != entry.csize:
            raise DataError(where, "", "a complete entry (the zip is cut short)")
        return data

    def _inflate(self, entry: _ZipEntry, start: int, limit: int, where: str) -> bytes:
        inflater = zlib.decompressobj(-15)
        parts: list[bytes] = []
        got, pos, left, pending = 0, start, entry.csize, b""
        while not inflater.eof:
            if not pending:
                if left <= 0:
                    raise DataError(where, "", "a complete deflate stream (the entry is cut short)")
                pending = os.pread(self._fd, min(CHUNK, left), pos)
                if not pending:
                    raise DataError(where, "", "a complete entry (the zip is cut short)")
                pos, left = pos + len(pending), left - len(pending)
            try:
                out = inflater.decompress(pending, limit - got + 1)
            except zlib.error as exc:
                raise DataError(where, "", f"valid deflate data ({exc})") from None
            pending = inflater.unconsumed_tail
            got += len(out)
            if got > limit:  # limit is the claimed size (already within the budget)
                raise PackRefused(where, "", f"an entry that inflates to the {entry.usize} bytes its header claims "
                                             "(it expands past that: a zip bomb?)")
            parts.append(out)
        return b"".join(parts)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
