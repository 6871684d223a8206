"""Where a pack's files come from: a folder, or a ``.zip`` read in place (never extracted).

Both kinds list their files when opened and refuse the whole pack, with one message naming the
pack, the entry and what was expected, when any entry breaks a rule of ``path_rules`` or is not
a plain file: symbolic links, hard links (a second name for a file that may live outside the
pack), pipes and devices in folders; symlink entries, encrypted entries, zip64 archives,
overlapping entries (a zip-bomb trick) and more entries than the budget in zips.

Reads are bounded: each read has a byte budget, checked against the real bytes (a zip entry is
inflated here, chunk by chunk, never trusting the sizes its headers claim; an entry that expands
past its claim or past the budget is refused after at most budget + 1 bytes). Folder reads open
the file without following links and check again that it is a regular file with one name.

The zip central directory is parsed here rather than by ``zipfile``: zipfile keeps only the part
of a name before a NUL, inflates bzip2 and LZMA entries without an output limit, and builds an
object per record before anyone can count them. Only stored and deflated entries are read.
"""
from __future__ import annotations

import os
import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import DataError
from engine.packs.path_rules import is_hidden, name_problem, same_file_key

MiB = 1024 * 1024
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_CHUNK = 1 * MiB


@dataclass(frozen=True)
class Budgets:
    """Limits on what a pack may make Storm read. Raise them by passing ``Budgets(...)`` to the
    ContentRegistry (``ContentRegistry(budgets=Budgets(file_bytes=...))``)."""

    file_bytes: int = 64 * MiB  # one read: the real bytes of one file
    entries: int = 50_000  # files (and zip records) in one pack
    pack_bytes: int = 4 * 1024 * MiB - 1  # all files of one pack, as listed
    manifest_bytes: int = 64 * 1024  # the pack.toml
    pixels: int = 8192 * 8192  # one decoded image, checked from its header before decoding


class PackRefused(DataError):
    """A pack, or a file in it, that loading refuses: names the pack (or file), the entry and what
    was expected."""


def budget_hint(name: str) -> str:
    return f"raise Budgets.{name} to allow more"


class PackSource:
    """The files of one pack. ``files`` maps each name (a relative POSIX path) to its size."""

    kind = "?"

    def __init__(self, location: Path) -> None:
        self.location = location
        self.files: dict[str, int] = {}

    def display(self, name: str) -> str:
        """How a file is named in messages: a real path, or ``pack.zip/entry``."""
        return str(self.location / name)

    def path(self, name: str) -> Path:
        """A path-like name for the file (a real path only in a folder pack)."""
        return self.location / name

    def read(self, name: str, budget: int) -> bytes:
        raise NotImplementedError

    def stamp(self, name: str) -> tuple[int, int]:
        """What changes when the file changes: (mtime in ns, size) or (CRC-32, size)."""
        raise NotImplementedError

    def changed(self) -> bool:
        """Whether the pack itself (a zip file) changed since it was opened."""
        return False

    def exists(self, name: str) -> bool:
        return name in self.files

    def discover(self, name: str) -> bool:
        return name in self.files

    def close(self) -> None:
        pass

    def refuse(self, entry: str, expected: str, got: object = None) -> PackRefused:
        return PackRefused(str(self.location), shown_name(entry), expected, got)


def shown_name(name: str, limit: int = 160) -> str:
    """A name as messages may print it: characters that are not printable escaped (a hostile name
    cannot forge lines or reverse text), cut to a readable length."""
    text = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in name)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Names:
    """Checks each name once and refuses two names for the same file."""

    def __init__(self, source: PackSource, limit: int) -> None:
        self.source, self.limit = source, limit
        self.keys: dict[str, str] = {}

    def add(self, name: str, size: int) -> None:
        source = self.source
        problem = name_problem(name)
        if problem:
            raise source.refuse(name, problem)
        key = same_file_key(name)
        other = self.keys.setdefault(key, name)
        if other is not name:
            raise source.refuse(name, f"one entry per file name (it differs from {other!r} only by case or "
                                      "Unicode normalisation, or repeats it)")
        if len(self.keys) > self.limit:
            raise source.refuse(name, f"at most {self.limit} files in a pack ({budget_hint('entries')})")
        source.files[name] = size


class FolderSource(PackSource):
    """A pack that is a folder on disk; walked once when opened."""

    kind = "folder"

    def __init__(self, root: Path, budgets: Budgets) -> None:
        super().__init__(root)
        names = _Names(self, budgets.entries)
        total = 0
        stack = [(str(root), "")]
        while stack:
            folder, prefix = stack.pop()
            try:
                with os.scandir(folder) as listing:
                    entries = list(listing)
            except OSError as exc:
                raise self.refuse(prefix or ".", f"a readable folder ({exc.strerror})") from None
            for entry in entries:
                name = prefix + entry.name
                if is_hidden(entry.name):
                    continue
                if entry.is_symlink():
                    raise self.refuse(name, "a regular file or folder, not a symbolic link")
                if entry.is_dir(follow_symlinks=False):
                    problem = name_problem(name)
                    if problem:
                        raise self.refuse(name, problem)
                    stack.append((entry.path, name + "/"))
                    continue
                info = entry.stat(follow_symlinks=False)
                _check_plain(self, name, info)
                total += info.st_size
                names.add(name, info.st_size)
        if total > budgets.pack_bytes:
            raise self.refuse("", f"a pack of at most {budgets.pack_bytes} bytes ({budget_hint('pack_bytes')})",
                              f"{total} bytes")

    def read(self, name: str, budget: int) -> bytes:
        return read_file(self.location / name, budget, self.display(name), in_pack=True)

    def exists(self, name: str) -> bool:
        """Whether the listed file is still there (a folder can change while it is mounted)."""
        try:
            return stat.S_ISREG(os.lstat(self.location / name).st_mode)
        except OSError:
            return False

    def discover(self, name: str) -> bool:
        """Add a file written after the pack was opened, checked as the first walk checks files
        (its folders too: no link on the way); False when there is no such plain file."""
        if name in self.files:
            return True
        if is_hidden(name) or name_problem(name):
            return False
        folder = self.location
        for part in name.split("/")[:-1]:
            folder = folder / part
            try:
                if not stat.S_ISDIR(os.lstat(folder).st_mode):
                    return False
            except OSError:
                return False
        try:
            info = os.lstat(self.location / name)
        except OSError:
            return False
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
            return False
        key = same_file_key(name)
        if any(same_file_key(other) == key for other in self.files):
            return False
        self.files[name] = info.st_size
        return True

    def stamp(self, name: str) -> tuple[int, int]:
        try:
            info = os.lstat(self.location / name)
        except OSError:
            return (0, -1)
        return (info.st_mtime_ns, info.st_size)


def _check_plain(source: PackSource, name: str, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise source.refuse(name, f"a regular file (this is {_file_type(info.st_mode)})")
    if info.st_nlink > 1:
        raise source.refuse(name, f"a file with one name (this is a hard link, one of {info.st_nlink} names "
                                  "for the same file)")


def _file_type(mode: int) -> str:
    for test, words in ((stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a named pipe"),
                        (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return "not a plain file"


def read_file(path: Path | str, budget: int, source: str = "", in_pack: bool = False) -> bytes:
    """The bytes of a regular file, at most ``budget`` of them; raises DataError naming the file.

    A pipe or device is refused without blocking on it. ``in_pack``: the file is not followed
    through a symbolic link and may not be a hard link (it could be a file outside the pack)."""
    where = source or str(path)
    flags = os.O_RDONLY | _NONBLOCK | _CLOEXEC | _BINARY | (_NOFOLLOW if in_pack else 0)
    try:
        if in_pack and not _NOFOLLOW and os.path.islink(path):
            raise PackRefused(where, "", "a regular file, not a symbolic link")
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise DataError(where, "", "an existing file") from None
    except IsADirectoryError:
        raise DataError(where, "", "a file, not a folder") from None
    except OSError as exc:
        if in_pack and os.path.islink(path):
            raise PackRefused(where, "", "a regular file, not a symbolic link") from None
        raise DataError(where, "", f"a readable file ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DataError(where, "", f"a regular file (this is {_file_type(info.st_mode)})")
        if in_pack and info.st_nlink > 1:
            raise PackRefused(where, "", f"a file with one name (this is a hard link, one of {info.st_nlink})")
        if info.st_size > budget:
            raise DataError(where, "", f"a file of at most {budget} bytes ({budget_hint('file_bytes')})",
                            f"{info.st_size} bytes")
        data = os.read(fd, info.st_size + 1)
        if len(data) > info.st_size:  # it grew while being read: keep reading, up to the budget
            parts = [data]
            while len(data) <= budget:
                more = os.read(fd, min(_CHUNK, budget + 1 - len(data)))
                if not more:
                    break
                parts.append(more)
                data = b"".join(parts)
            if len(data) > budget:
                raise DataError(where, "", f"a file of at most {budget} bytes ({budget_hint('file_bytes')})")
        return data
    except OSError as exc:
        raise DataError(where, "", f"a readable file ({exc.strerror})") from None
    finally:
        os.close(fd)


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
            self._fd = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC | _BINARY)
        except OSError as exc:
            raise self.refuse("", f"a readable zip file ({exc.strerror})") from None
        try:
            info = os.fstat(self._fd)
            if not stat.S_ISREG(info.st_mode):
                raise self.refuse("", f"a zip file (this is {_file_type(info.st_mode)})")
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
        names = _Names(self, budgets.entries)
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
            raise self.refuse(name, f"a regular file (this entry is {_file_type(mode)})")
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

    def display(self, name: str) -> str:
        return f"{self.location}/{name}"

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
                pending = os.pread(self._fd, min(_CHUNK, left), pos)
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


def open_source(path: Path | str, budgets: Budgets | None = None) -> PackSource:
    """The source of a pack folder or ``.zip`` file; raises PackRefused saying what is wrong."""
    location = Path(path)
    budgets = budgets or Budgets()
    if location.is_dir():
        return FolderSource(location, budgets)
    if location.suffix.lower() == ".zip" and location.exists():
        return ZipSource(location, budgets)
    raise PackRefused(str(location), "", "a pack folder or a .zip file")
