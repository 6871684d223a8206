"""Notice when the open world's file changes on disk (another program, a text editor, a version
control checkout) and bring the change in without losing anything.

Every ``interval`` seconds the loop asks ``check``: one ``stat`` of the file. When its size or
modification time differ from what the editor last read or wrote, the file's bytes are compared
with what the editor itself last wrote or read (a hash), so the editor's own saves never count.
A real change reloads the world at once when there are no unsaved edits (the camera stays, the
selection keeps the ids that still exist); with unsaved edits it asks: Reload (the edits are
dropped, and stay in the autosave's recovery file until the next save) or Keep mine (the file on
disk is left alone; the next save writes over it). A file that is gone or broken is said in the
console and the open world stays as it is.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from engine.core.errors import StormError

if TYPE_CHECKING:
    from editor.document import Document
    from editor.session import Session

log = logging.getLogger("storm.editor")
INTERVAL_S = 1.0
Ask = Callable[[str, str, Sequence[tuple[str, Callable[[], None] | None]]], None]


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _file_text(document: "Document") -> str:
    """What saving the document writes now."""
    text = getattr(document, "file_text", None)
    if text is not None:
        return text()
    from engine.data.world_save import world_to_data
    from engine.packs.json_text import dumps_canonical

    return dumps_canonical(world_to_data(document.world))


class FileWatch:
    """Watches the open document's file; ``ask`` shows a question (``Dialogs.ask``)."""

    def __init__(self, session: "Session", ask: Ask, interval: float = INTERVAL_S) -> None:
        self.session = session
        self.ask = ask
        self.interval = interval
        self.reloads = 0
        self._document: "Document | None" = None
        self._path: Path | None = None
        self._signature: tuple[int, int] | None = None
        self._digest = ""
        self._saved_version = -1
        self._next = 0.0
        self._asking = False

    def _watch(self, document: "Document") -> None:
        self._document, self._path = document, document.path
        self._signature = _signature(document.path) if document.path else None
        self._digest = _digest(document.path) if document.path else ""
        self._saved_version = document.version

    def check(self, now: float | None = None) -> bool:
        """Called each frame; looks at the file every ``interval`` s. True when a change was
        noticed (reloaded, or the question asked)."""
        session = self.session
        document = session.document
        now = time.monotonic() if now is None else now
        if document is None or document.path is None:
            self._document = None
            return False
        if document is not self._document or document.path != self._path:
            self._watch(document)
            return False
        if document.version != self._saved_version:
            self._saved_version = document.version
            if not document.dirty:
                self._adopt_own_save(document)
        if now < self._next or self._asking or session.play.playing:
            return False
        self._next = now + self.interval
        signature = _signature(document.path)
        if signature == self._signature:
            return False
        if signature is None:
            self._signature = None
            session.say(f"{document.path} is gone from the disk; Save writes it again", logging.WARNING)
            return False
        digest = _digest(document.path)
        if digest == self._digest:
            self._signature = signature  # touched, not changed
            return False
        return self._changed(document, signature, digest)

    def _adopt_own_save(self, document: "Document") -> None:
        """The document was just saved (or undone back to its saved state): if the file holds
        exactly what the editor writes for it now, that is the editor's own file."""
        assert document.path is not None
        signature = _signature(document.path)
        if signature is None or signature == self._signature:
            return
        digest = _digest(document.path)
        if digest == hashlib.sha256(_file_text(document).encode("utf-8")).hexdigest():
            self._signature, self._digest = signature, digest

    def _changed(self, document: "Document", signature: tuple[int, int] | None, digest: str) -> bool:
        self._signature, self._digest = signature, digest
        if not document.dirty:
            self.reload(f"{document.display_name} changed on disk: reloaded")
            return True
        self._asking = True

        def reload() -> None:
            self._asking = False
            self.reload(f"{document.display_name} changed on disk: reloaded (your unsaved edits were dropped)")

        def keep() -> None:
            self._asking = False
            self.session.say(f"kept your edits; saving will write over the changed {document.display_name}")

        self.ask("The file changed on disk",
                 f"{document.display_name} was changed by another program while you have unsaved edits.\n"
                 "Reload it (your unsaved edits are dropped) or keep your version (saving writes over the file)?",
                 [("Reload", reload), ("Keep mine", keep)])
        return True

    def reload(self, message: str) -> bool:
        """Read the open file again, keeping the camera and what is still selectable."""
        session = self.session
        document = session.document
        if document is None or document.path is None:
            return False
        camera = session.camera
        view = (camera.target, camera.heading, camera.pitch, camera.distance)
        selected = list(session.selection.ids)
        try:
            asset_id = getattr(document, "asset_id", "")
            if asset_id:  # a prefab open on its own
                from editor.prefab_tools import open_prefab

                open_prefab(session, asset_id)
            else:
                session.open(document.path)
        except (StormError, OSError) as exc:
            session.say(f"{document.display_name} changed on disk but cannot be read now ({exc}); "
                        "the open world stays", logging.WARNING)
            return False
        camera.target, camera.heading, camera.pitch, camera.distance = view
        camera.version += 1
        session.selection.set([e for e in selected if session.world.exists(e)])
        self.reloads += 1
        session.say(message)
        if session.document is not None:
            self._watch(session.document)
        return True
