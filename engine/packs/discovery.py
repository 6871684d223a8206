"""Finding the packs that are installed: each pack folder is scanned, and every entry in it that a
pack reader claims becomes an AvailablePack (its checked manifest and where it lives).

A reader knows one kind of pack location: ``FolderReader`` a folder with a ``pack.toml``,
``ZipReader`` a ``.zip`` pack. Each claims the entries it understands, reads their manifest and
lists their files for the content hash.
"""
from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator, NamedTuple, Protocol, Sequence

import semver

from engine.core.errors import DataError, StormError
from engine.packs.manifest import MANIFEST, PackManifest, parse_manifest, read_manifest
from engine.packs.sources import Budgets
from engine.packs.zip_source import ZipSource


class PackFile(NamedTuple):
    """One file of a pack: its pack-relative path (``/``-separated), and either a way to open it
    for reading or, for a symbolic link, the link's target text (links are never followed)."""

    path: str
    open: Callable[[], BinaryIO] | None
    link: str | None = None


class PackReader(Protocol):
    """Reads one kind of pack location (a folder; a zip file)."""

    def claims(self, entry: Path) -> bool:
        """Whether ``entry`` (an entry of a pack folder) is a pack this reader reads."""

    def manifest(self, location: Path) -> PackManifest:
        """The checked manifest; raises DataError naming the file, key and expectation."""

    def files(self, location: Path) -> Iterator[PackFile]:
        """Every file of the pack, in any order; raises DataError for one it cannot read."""


class FolderReader:
    """Packs that are folders: every subfolder of a pack folder (hidden ones, ``.name``, aside)."""

    def claims(self, entry: Path) -> bool:
        return entry.is_dir() and not entry.name.startswith(".")

    def manifest(self, location: Path) -> PackManifest:
        return read_manifest(location)

    def files(self, location: Path) -> Iterator[PackFile]:
        for folder, dirs, names in os.walk(location, followlinks=False, onerror=_raise):
            here = Path(folder)
            for name in list(dirs):
                if (here / name).is_symlink():  # os.walk lists links to folders as folders
                    dirs.remove(name)
                    names.append(name)
            for name in names:
                path = here / name
                rel = path.relative_to(location).as_posix()
                mode = path.lstat().st_mode
                if stat.S_ISLNK(mode):
                    yield PackFile(rel, None, os.readlink(path))
                elif stat.S_ISREG(mode):
                    yield PackFile(rel, _opener(path))
                else:
                    raise DataError(str(path), "", "a regular file, folder or link (not a device, pipe or socket)")


def _opener(path: Path) -> Callable[[], BinaryIO]:
    return lambda: open(path, "rb")


def _raise(error: OSError) -> None:
    raise DataError(str(error.filename), "", f"a readable folder ({error.strerror})")


class ZipReader:
    """Packs that are ``.zip`` files (what ``storm pack build`` writes), read in place through
    ``zip_source.ZipSource``, which refuses what loading refuses before anything is read."""

    def claims(self, entry: Path) -> bool:
        return entry.suffix.lower() == ".zip" and entry.is_file() and not entry.name.startswith(".")

    def manifest(self, location: Path) -> PackManifest:
        source = ZipSource(location, Budgets())
        try:
            if MANIFEST not in source.files:
                raise DataError(str(location), MANIFEST, "a pack manifest file (pack.toml) at the top of the zip")
            raw = source.read(MANIFEST, Budgets().manifest_bytes)
            return parse_manifest(raw, source.display(MANIFEST))
        finally:
            source.close()

    def files(self, location: Path) -> Iterator[PackFile]:
        source = ZipSource(location, Budgets())
        try:
            contents = {name: source.read(name, Budgets().file_bytes) for name in sorted(source.files)}
        finally:
            source.close()
        for name, data in contents.items():
            yield PackFile(name, _bytes_opener(data))


def _bytes_opener(data: bytes) -> Callable[[], BinaryIO]:
    return lambda: io.BytesIO(data)


DEFAULT_READERS: tuple[PackReader, ...] = (FolderReader(), ZipReader())


@dataclass(frozen=True)
class AvailablePack:
    """An installed pack: its manifest, where it lives and the reader that reads it."""

    manifest: PackManifest
    location: Path
    reader: PackReader

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def version(self) -> semver.Version:
        return self.manifest.version

    @property
    def label(self) -> str:
        """``forest 1.2.0``: how messages name the pack."""
        return f"{self.manifest.id} {self.manifest.version}"

    def files(self) -> Iterator[PackFile]:
        return self.reader.files(self.location)


@dataclass
class ScanResult:
    """What a scan found: the packs in scan order, and the entries that could not be read (each a
    sentence naming the file, key and expectation)."""

    packs: list[AvailablePack]
    unreadable: list[str]
    folders: list[Path]


def scan_packs(folders: Iterable[Path], readers: Sequence[PackReader] = DEFAULT_READERS) -> ScanResult:
    """Every pack in ``folders`` (a missing folder holds none), folder by folder, each folder's
    entries sorted by name. An entry no reader claims (a loose file) is not a pack."""
    packs: list[AvailablePack] = []
    unreadable: list[str] = []
    scanned = [Path(folder) for folder in folders]
    for folder in scanned:
        try:
            entries = sorted(folder.iterdir(), key=lambda p: p.name)
        except FileNotFoundError:
            continue
        except OSError as exc:
            unreadable.append(f"{folder}: expected a readable pack folder ({exc.strerror})")
            continue
        for entry in entries:
            reader = next((r for r in readers if r.claims(entry)), None)
            if reader is None:
                continue
            try:
                packs.append(AvailablePack(reader.manifest(entry), entry, reader))
            except StormError as exc:
                unreadable.append(str(exc))
    return ScanResult(packs, unreadable, scanned)

