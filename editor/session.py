"""The editor's state and what can be done with it, without any widgets: the open document, the
selection, the editor camera, the gizmo, Play, autosave. Menus, panels, shortcuts and the
scripting driver all call these methods, so a test that drives the session does what a click does.

Every change to the World is a command through ``Document.do``: create, delete, duplicate,
rename, move, field edits. While Play runs, edits are refused (the world runs a copy that Stop
throws away); so are they, and Play, undo, redo and save, for a read-only document (a visited
region: ``Document.read_only`` says why), whose World ``tick_live`` runs each editor frame.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from panda3d.core import Point3

from editor.camera_control import OrbitCamera, bounds_of
from editor.document import Document
from editor.gizmo import Gizmos, _outermost
from editor.play_mode import PlayMode
from editor.recovery import AutoSaver, Recovery, RecoveryFile
from editor.selection import Selection
from editor.settings import Preferences, save_prefs
from editor.templates import asset_command, create_command
from editor.tree_edits import TreeEdits
from editor.visibility import EditorMarks
from engine.core.commands import Command, CommandError, Transaction
from engine.core.edit_commands import DestroyEntity, Duplicate, Rename
from engine.core.errors import StormError

if TYPE_CHECKING:
    from editor.viewport import ViewRenderer
    from engine.host.runtime import Runtime

log = logging.getLogger("storm.editor")


class EditRefused(StormError):
    """An edit the editor would not make (Play runs, nothing selected...): the reason is shown."""


class Session:
    """One editor: one document at a time, drawn by one ViewRenderer."""

    def __init__(self, runtime: "Runtime", renderer: "ViewRenderer", prefs: Preferences,
                 recovery: Recovery | None = None, save_settings: bool = True) -> None:
        self.runtime = runtime
        self.renderer = renderer
        self.prefs = prefs
        self.save_settings = save_settings
        self.recovery = recovery or Recovery()
        self.autosave = AutoSaver(self.recovery, prefs.autosave_seconds)
        self.selection = Selection()
        self.camera = OrbitCamera()
        self.gizmo = Gizmos(prefs)
        self.play = PlayMode(renderer)
        self.play.on_stop.append(self._after_stop)
        self.document: Document | None = None
        self.message = ""  # the last thing the editor has to say (status bar)
        self.on_document: list[Callable[[Document], None]] = []
        self.marks = EditorMarks()  # hidden and locked entities (editor state, not the game's)
        self.on_document.append(self.marks.attach)
        self.tree_edits = TreeEdits(self)  # reparent, group, copy/paste (its clipboard outlives the document)
        self.selection.listeners.append(lambda _s: self.renderer.request())
        renderer.set_shading(prefs.shading)

    # -- documents --------------------------------------------------------------------------------
    @property
    def world(self) -> Any:
        assert self.document is not None
        return self.document.world

    def _adopt(self, document: Document) -> None:
        """Show ``document`` instead of the open one (which is closed)."""
        old = self.document
        self.play.stop("another world was opened")
        self.document = document
        self.selection.clear()
        self.renderer.show(document.world, self.camera)
        if old is not None and old is not document:
            old.close()
        document.listeners.append(lambda _d: self.renderer.request())
        self.autosave.reset(document)
        if document.dirty:
            self.autosave._written_version = -1  # a recovered world: keep its recovery file current
        self.frame_all()
        for listener in list(self.on_document):
            listener(document)

    @property
    def read_only(self) -> str:
        """Why the open document cannot be edited ('' when it can)."""
        return self.document.read_only if self.document is not None else ""

    def _editable(self) -> None:
        if self.read_only:
            raise EditRefused(self.read_only)

    def tick_live(self, seconds: float) -> bool:
        """Run a live document's World for ``seconds`` (the editor's frame; not while Play runs);
        what it has to say goes to the status bar. True when the document is live."""
        document = self.document
        if document is None or not document.live or self.play.playing:
            return False
        version = document.version
        news = document.tick(seconds)
        if document.version != version:
            self.selection.prune(document.world)   # the region may have taken a selected object away
        if news:
            self.say(news, logging.WARNING)
        return True

    def adopt(self, document: Document, said: str = "") -> Document:
        """Show a document made elsewhere (a visited region) instead of the open one."""
        self._adopt(document)
        if said:
            self.say(said)
        return document

    def new(self, name: str = "untitled") -> Document:
        self._adopt(Document.new(self.runtime, name))
        self.say(f"new world {name!r}")
        return self.document  # type: ignore[return-value]

    def open(self, path: Path | str) -> Document:
        """Open a world file; a broken one raises StormError (the loader's message) and the open
        world stays as it is."""
        document = Document.open(self.runtime, path)
        self._adopt(document)
        self.prefs.remember_file(document.path)  # type: ignore[arg-type]
        self._save_prefs()
        self.say(f"opened {document.path}")
        return document

    def pending_recovery(self) -> RecoveryFile | None:
        """A recovery file left for the open document by a session that did not end cleanly."""
        return self.recovery.find(self.document.path if self.document else None)

    def recover(self, found: RecoveryFile) -> Document:
        document = self.recovery.restore(self.runtime, found)
        self._adopt(document)
        self.say(f"recovered unsaved changes: {found.describe()}")
        return document

    def discard_recovery(self, found: RecoveryFile) -> None:
        found.world_file.unlink(missing_ok=True)
        self.recovery.discard(Path(found.original) if found.original else None)

    def save(self, path: Path | str | None = None) -> Path:
        if self.play.playing:
            raise EditRefused("stop Play before saving: the running copy is not what you edited")
        self._editable()
        assert self.document is not None
        old_path = self.document.path
        saved = self.document.save(path)
        if old_path is not None and old_path != saved:
            self.recovery.discard(old_path)
        self.recovery.discard(saved)
        self.autosave.reset(self.document)
        self.prefs.remember_file(saved)
        self._save_prefs()
        self.say(f"saved {saved}")
        return saved

    def _save_prefs(self) -> None:
        if self.save_settings:
            try:
                save_prefs(self.prefs)
            except OSError as exc:
                log.warning("could not save editor preferences: %s", exc)

    def close(self) -> None:
        """The editor closes: a clean document leaves no recovery file behind."""
        self.play.stop("the editor closes")
        if self.document is not None:
            self.document.release()
            if not self.document.dirty:
                self.recovery.discard(self.document.path)
            self.document.listeners.clear()

    # -- edits ------------------------------------------------------------------------------------
    def do(self, command: Command, name: str = "") -> Command:
        """Apply one undoable edit; refused edits raise (CommandError or EditRefused) and change nothing."""
        if self.play.playing:
            raise EditRefused("the world is playing: stop Play to edit (edits to the running copy would be lost)")
        self._editable()
        assert self.document is not None
        inverse = self.document.do(command, name)
        self.selection.prune(self.world)
        self.say(self.document.history.message)
        return inverse

    def undo(self) -> str | None:
        if self.play.playing:
            raise EditRefused("stop Play to undo")
        self._editable()
        assert self.document is not None
        name = self.document.undo()
        self.selection.prune(self.world)
        self.say(self.document.history.message)
        return name

    def redo(self) -> str | None:
        if self.play.playing:
            raise EditRefused("stop Play to redo")
        self._editable()
        assert self.document is not None
        name = self.document.redo()
        self.selection.prune(self.world)
        self.say(self.document.history.message)
        return name

    def undo_to(self, steps_left: int) -> None:
        """Undo or redo until ``steps_left`` steps are done (the history panel's click)."""
        assert self.document is not None
        history = self.document.history
        while len(history.undo_names()) > steps_left and history.can_undo():
            self.undo()
        while len(history.undo_names()) < steps_left and history.can_redo():
            self.redo()

    def place_point(self) -> Point3:
        """Where new things go: the point the editor camera looks at."""
        return Point3(self.camera.target)

    def create(self, kind: str, parent: int = 0) -> int:
        """Create an entity of a template kind (``templates.TEMPLATES``); selects it; returns its id."""
        inverse = self.do(create_command(self.world, kind, self.place_point(), parent), f"create {kind}")
        eid = inverse.entity if isinstance(inverse, DestroyEntity) else 0
        self.selection.set([eid])
        return eid

    def place_asset(self, asset_id: str) -> int:
        inverse = self.do(asset_command(self.world, asset_id, self.place_point()), f"place {asset_id}")
        eid = inverse.entity if isinstance(inverse, DestroyEntity) else 0
        self.selection.set([eid])
        return eid

    def _targets(self) -> list[int]:
        self._editable()
        ids = [eid for eid in self.selection.ids if self.world.exists(eid)]
        if not ids:
            raise EditRefused("nothing is selected")
        return _outermost(self.world, ids)

    def delete_selected(self) -> None:
        ids = self._targets()
        command = DestroyEntity(ids[0]) if len(ids) == 1 else Transaction(f"delete {len(ids)} entities",
                                                                          [DestroyEntity(e) for e in ids])
        self.do(command, f"delete {', '.join(self.world.name_of(e) or str(e) for e in ids)}"[:120])
        self.selection.clear()

    def duplicate_selected(self) -> list[int]:
        ids = self._targets()
        command = Duplicate(ids[0]) if len(ids) == 1 else Transaction("duplicate", [Duplicate(e) for e in ids])
        inverse = self.do(command, f"duplicate {len(ids)} entit{'y' if len(ids) == 1 else 'ies'}")
        steps = inverse.commands if isinstance(inverse, Transaction) else [inverse]
        copies = [step.entity for step in reversed(steps) if isinstance(step, DestroyEntity)]
        self.selection.set(copies)
        return copies

    def rename(self, eid: int, name: str) -> None:
        if self.world.exists(eid) and self.world.name_of(eid) != name:
            self.do(Rename(eid, name), f"rename to {name!r}"[:120])

    def try_do(self, command: Command, name: str = "") -> str:
        """``do``, but a refusal is returned as its reason (and said) instead of raised: '' on success."""
        try:
            self.do(command, name)
        except (CommandError, EditRefused) as exc:
            reason = exc.reason if isinstance(exc, CommandError) else str(exc)
            self.say(f"refused: {reason}", logging.WARNING)
            return reason
        return ""

    # -- view ----------------------------------------------------------------------------------------
    def frame_selection(self) -> None:
        """Frame the selection (everything when nothing is selected) in the view (F)."""
        ids = self.selection.ids or [e for e in self.world.entities() if not self.world.parent_of(e)]
        found = bounds_of(self.world, ids)
        if found is not None:
            self.camera.frame(*found)
            self.renderer.request()

    def frame_all(self) -> None:
        found = bounds_of(self.world, [e for e in self.world.entities() if not self.world.parent_of(e)
                                       and self._worth_framing(e)])
        if found is not None:
            center, radius = found
            self.camera.frame(center, min(radius, 30.0))
        self.renderer.request()

    def _worth_framing(self, eid: int) -> bool:
        """Huge things (terrain, sky planes) would make the first view tiny; lights and cameras have no size."""
        types = {type(c).type_name for c in self.world.components(eid)}
        return "MeshRenderer" in types

    def set_shading(self, mode: str) -> None:
        self.renderer.set_shading(mode)
        self.prefs.shading = mode
        self._save_prefs()

    # -- play -----------------------------------------------------------------------------------------
    def start_play(self) -> None:
        self._editable()
        self.gizmo.cancel(self.world)
        self.play.start(self.world)
        self.say("playing: Stop (Esc) brings the edited world back")

    def stop_play(self) -> None:
        self.play.stop()

    def _after_stop(self, why: str) -> None:
        self.renderer.set_camera(self.camera)
        self.selection.prune(self.world)
        if self.document is not None:
            self.document.changed()

    # -- status ------------------------------------------------------------------------------------------
    def say(self, text: str, level: int = logging.INFO) -> None:
        self.message = text
        if text:
            log.log(level, "%s", text)
