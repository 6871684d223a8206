"""The content hash of a pack: every file, in sorted path order, read in chunks.

Each file adds ``file``, its pack-relative path and the SHA-256 of its bytes to the pack's SHA-256
(a symbolic link adds ``link``, its path and its target text; links are never followed). Nothing
is left out: hidden files and caches count too, so any change to what a pack holds changes its
hash. Folders count only through the files in them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable

from engine.core.errors import DataError
from engine.packs.discovery import PackFile

CHUNK_BYTES = 1 << 20
PREFIX = "sha256:"


@dataclass(frozen=True)
class PackDigest:
    """A pack's content hash (``sha256:<hex>``) and how many files and bytes went into it."""

    hash: str
    files: int
    bytes: int


def _name(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def content_hash(files: Iterable[PackFile], source: str = "") -> PackDigest:
    """Hash a pack's files (any order in, sorted by path inside); ``source`` names the pack in errors."""
    listed = sorted(files, key=lambda f: _name(f.path))
    total = hashlib.sha256()
    size = 0
    previous = None
    for entry in listed:
        if entry.path == previous:
            raise DataError(source, entry.path, "each file path once in a pack")
        previous = entry.path
        if entry.open is None:
            total.update(b"link\0" + _name(entry.path) + b"\0" + _name(entry.link or "") + b"\0")
            continue
        one = hashlib.sha256()
        try:
            with entry.open() as stream:
                while chunk := stream.read(CHUNK_BYTES):
                    one.update(chunk)
                    size += len(chunk)
        except OSError as exc:
            raise DataError(source, entry.path, f"a readable file ({exc.strerror or exc})") from None
        total.update(b"file\0" + _name(entry.path) + b"\0" + one.digest())
    return PackDigest(PREFIX + total.hexdigest(), len(listed), size)
