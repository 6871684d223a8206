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

Zips are read by ``zip_source.ZipSource``.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import DataError
from engine.packs.path_rules import is_hidden, name_problem, same_file_key

MiB = 1024 * 1024
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
READ_FLAGS = os.O_RDONLY | _NONBLOCK | _CLOEXEC | _BINARY  # never blocks on a pipe, never inherited
CHUNK = 1 * MiB


@dataclass(frozen=True)
class Budgets:
    """Limits on what files (packs, worlds) may make Storm read and build. Raise one with
    ``--budget NAME=N`` on the command line, or pass ``Budgets(...)`` to the ContentRegistry
    (``ContentRegistry(budgets=Budgets(file_bytes=...))``); world loading reads them from there."""

    file_bytes: int = 64 * MiB  # one read: the real bytes of one file
    entries: int = 50_000  # files (and zip records) in one pack
    pack_bytes: int = 4 * 1024 * MiB - 1  # all files of one pack, as listed
    manifest_bytes: int = 64 * 1024  # the pack.toml
    pixels: int = 8192 * 8192  # one decoded image, checked from its header before decoding
    entities: int = 1_000_000  # entities in one world, prefab members counted as they are expanded
    depth: int = 1_000  # entities in one parent chain (a child of a child of ...)
    prefab_depth: int = 16  # prefabs inside prefabs inside ...


def parse_budgets(settings: list[str], base: "Budgets | None" = None) -> "Budgets":
    """Budgets from ``NAME=N`` texts (the command line's ``--budget``); raises ValueError saying
    which names exist."""
    from dataclasses import fields, replace

    names = [f.name for f in fields(Budgets)]
    changes: dict[str, int] = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        if name not in names or not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"--budget {setting!r}: expected NAME=N with N >= 1 and NAME one of {', '.join(names)}")
        changes[name] = int(value)
    return replace(base or Budgets(), **changes)


class PackRefused(DataError):
    """A pack, or a file in it, that loading refuses: names the pack (or file), the entry and what
    was expected."""


def budget_hint(name: str) -> str:
    """How a refusal says which budget it met and how to raise it."""
    return f"the {name!r} budget; raise it with --budget {name}=N"


class PackSource:
    """The files of one pack. ``files`` maps each name (a relative POSIX path) to its size."""

    kind = "?"

    def __init__(self, location: Path) -> None:
        self.location = location
        self.files: dict[str, int] = {}
        self._prefix = os.path.join(str(location), "")  # names are checked: joining strings is enough

    def display(self, name: str) -> str:
        """How a file is named in messages: a real path, or ``pack.zip/entry``."""
        return self._prefix + name

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


class NameChecker:
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
        names = NameChecker(self, budgets.entries)
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
        return read_file(self._prefix + name, budget, in_pack=True)

    def exists(self, name: str) -> bool:
        """Whether the listed file is still there (a folder can change while it is mounted)."""
        try:
            return stat.S_ISREG(os.lstat(self._prefix + name).st_mode)
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
            info = os.lstat(self._prefix + name)
        except OSError:
            return (0, -1)
        return (info.st_mtime_ns, info.st_size)


def _check_plain(source: PackSource, name: str, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise source.refuse(name, f"a regular file (this is {file_type(info.st_mode)})")
    if info.st_nlink > 1:
        raise source.refuse(name, f"a file with one name (this is a hard link, one of {info.st_nlink} names "
                                  "for the same file)")


def file_type(mode: int) -> str:
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
    flags = READ_FLAGS | (_NOFOLLOW if in_pack else 0)
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
            raise DataError(where, "", f"a regular file (this is {file_type(info.st_mode)})")
        if in_pack and info.st_nlink > 1:
            raise PackRefused(where, "", f"a file with one name (this is a hard link, one of {info.st_nlink})")
        if info.st_size > budget:
            raise DataError(where, "", f"a file of at most {budget} bytes ({budget_hint('file_bytes')})",
                            f"{info.st_size} bytes")
        data = os.read(fd, info.st_size + 1)
        if len(data) > info.st_size:  # it grew while being read: keep reading, up to the budget
            parts = [data]
            while len(data) <= budget:
                more = os.read(fd, min(CHUNK, budget + 1 - len(data)))
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


def open_source(path: Path | str, budgets: Budgets | None = None) -> PackSource:
    """The source of a pack folder or ``.zip`` file; raises PackRefused saying what is wrong."""
    location = Path(path)
    budgets = budgets or Budgets()
    if location.is_dir():
        return FolderSource(location, budgets)
    if location.suffix.lower() == ".zip" and location.exists():
        from engine.packs.zip_source import ZipSource

        return ZipSource(location, budgets)
    raise PackRefused(str(location), "", "a pack folder or a .zip file")
