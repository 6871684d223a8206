"""Autosave and crash recovery.

While a world has unsaved changes, the editor writes it every ``autosave_seconds`` (and before it
goes idle) to a recovery file in ``settings.recovery_dir()``: the world in the canonical layout,
beside a small JSON note saying which file it belongs to and when it was written. Saving the
world or closing it without changes removes both. A recovery file still there when the editor
starts means the last session ended without saving (a crash, a kill): the editor offers it.

Writes are atomic, so a crash while autosaving leaves the previous recovery file whole.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from editor.document import Document
from editor.settings import recovery_dir
from engine.core.errors import StormError
from engine.data.world_file import read_world, world_to_data
from engine.packs.json_text import atomic_write, dumps_canonical

if TYPE_CHECKING:
    from engine.host.runtime import Runtime

log = logging.getLogger("storm.editor")
NOTE_BYTES = 64 * 1024


@dataclass(frozen=True)
class RecoveryFile:
    """An autosave left behind: the world data file, the world file it belongs to ('' for a world
    never saved) and when it was written (seconds since the epoch)."""

    world_file: Path
    original: str
    written_at: float

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.written_at))
        return f"{self.original or 'a world that was never saved'} (autosaved {when})"


class Recovery:
    """Recovery files of one user, one per world file."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or recovery_dir()

    def _key(self, path: Path | None) -> str:
        name = str(path.resolve()) if path is not None else "untitled"
        stem = (path.name.split(".")[0] if path is not None else "untitled")[:40] or "world"
        return f"{stem}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"

    def paths(self, path: Path | None) -> tuple[Path, Path]:
        key = self._key(path)
        return self.folder / f"{key}.world.json", self.folder / f"{key}.note.json"

    def write(self, document: Document) -> Path:
        """Autosave ``document`` now."""
        world_file, note = self.paths(document.path)
        atomic_write(world_file, dumps_canonical(world_to_data(document.world)))
        atomic_write(note, json.dumps({"original": str(document.path or ""), "written_at": time.time()}) + "\n")
        return world_file

    def discard(self, path: Path | None) -> None:
        for file in self.paths(path):
            file.unlink(missing_ok=True)

    def find(self, path: Path | None) -> RecoveryFile | None:
        """The recovery file left for ``path`` (None: the untitled world), if any."""
        world_file, note = self.paths(path)
        if not world_file.is_file():
            return None
        original, written_at = str(path.resolve()) if path is not None else "", world_file.stat().st_mtime
        try:
            data = json.loads(note.read_bytes()[:NOTE_BYTES].decode("utf-8"))
            if isinstance(data, dict) and isinstance(data.get("written_at"), (int, float)):
                written_at = float(data["written_at"])
        except (OSError, ValueError, UnicodeDecodeError):
            log.warning("%s: unreadable recovery note; offering the recovery file anyway", note)
        return RecoveryFile(world_file, original, written_at)

    def restore(self, runtime: "Runtime", found: RecoveryFile) -> Document:
        """The recovered world as a document for its original file, with unsaved changes; raises
        StormError when the recovery file does not load."""
        world = read_world(found.world_file, runtime)
        document = Document(world, Path(found.original) if found.original else None)
        document.mark_unsaved()
        log.info("recovered %s", found.describe())
        return document


class AutoSaver:
    """Decides when to autosave: the document has changes the recovery file does not hold, and
    ``interval`` seconds passed since the last write (or the editor is about to go idle)."""

    def __init__(self, recovery: Recovery, interval: float) -> None:
        self.recovery = recovery
        self.interval = interval
        self._written_version = -1
        self._last = time.monotonic()

    def reset(self, document: Document) -> None:
        """A document was opened or saved: what is on disk is current."""
        self._written_version = document.version
        self._last = time.monotonic()

    def pending(self, document: Document) -> bool:
        return document.dirty and document.version != self._written_version

    def tick(self, document: Document, *, idle: bool = False, now: float | None = None) -> bool:
        """Autosave if due; returns whether it wrote."""
        now = time.monotonic() if now is None else now
        if not self.pending(document) or (not idle and now - self._last < self.interval):
            if not document.dirty and self._written_version != document.version:
                self.recovery.discard(document.path)  # saved (or undone back to the file): nothing to recover
                self._written_version = document.version
            return False
        try:
            self.recovery.write(document)
        except (OSError, StormError) as exc:
            log.error("autosave failed: %s (the world is still open; save it yourself)", exc)
            self._last = now
            return False
        self._written_version, self._last = document.version, now
        return True
