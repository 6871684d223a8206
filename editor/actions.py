"""The editor's actions: what each menu item, toolbar button and shortcut does, by name. Files
(new, open, save, save as, quit) ask before unsaved changes are lost and show a broken file's
error in a dialog; edits go to the session; any failure is reported, never raised into the loop.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from editor.session import EditRefused
from editor.snap_settings import show_snap_on
from engine.core.commands import CommandError
from engine.core.errors import StormError

if TYPE_CHECKING:
    from editor.app import EditorApp

log = logging.getLogger("storm.editor")


class EditorActions(dict[str, Callable[[], None]]):
    """Action name -> a function that does it (each guarded: refusals are said, errors shown)."""

    def __init__(self, app: "EditorApp") -> None:
        super().__init__()
        self.app = app
        s = app.session
        plain: dict[str, Callable[[], None]] = {
            "new": self.new, "open": self.open, "save": self.save, "save_as": self.save_as, "quit": app.request_quit,
            "visit": self.visit,
            "undo": s.undo, "redo": s.redo, "duplicate": s.duplicate_selected, "delete": s.delete_selected,
            "rename": lambda: app.tree.start_rename(s.selection.primary), "frame": s.frame_selection,
            "translate": lambda: self.tool("translate"), "rotate": lambda: self.tool("rotate"),
            "scale": lambda: self.tool("scale"), "snap": self.snap, "copy": s.tree_edits.copy_selected,
            "paste": s.tree_edits.paste, "paste_sibling": lambda: s.tree_edits.paste(beside=True),
            "group": s.tree_edits.group_selected, "hide": s.tree_edits.toggle_hidden,
            "lock": s.tree_edits.toggle_locked, "grid": app.toggle_grid, "shading": self.shading, "play": self.play,
            "low_res": self.low_res,
            "pause": self.pause, "step": self.step, "escape": self.escape, "help": app.show_help, "npcs": app.show_npcs,
            "reset_layout": app.reset_layout,
            "view_front": lambda: self.view("front"), "view_side": lambda: self.view("side"),
            "view_top": lambda: self.view("top"), "view_perspective": lambda: self.view("perspective"),
        }
        for name, action in plain.items():
            self[name] = self.guarded(action, name)

    def guarded(self, action: Callable[[], object], name: str) -> Callable[[], None]:
        def run() -> None:
            try:
                action()
            except (EditRefused, CommandError) as exc:
                self.app.session.say(f"{name}: {getattr(exc, 'reason', exc)}", logging.WARNING)
            except StormError as exc:
                self.app.dialogs.tell(f"Could not {name.replace('_', ' ')}", str(exc))
            except Exception:  # noqa: BLE001 - a bug in one action must not close the editor
                log.exception("%s failed", name)
        return run

    # -- files ------------------------------------------------------------------------------------
    def _unless_unsaved(self, what: str, then: Callable[[], None]) -> None:
        """Run ``then``, first asking whether unsaved changes may be lost."""
        document = self.app.session.document
        if document is None or not document.dirty:
            then()
            return
        self.app.dialogs.ask("Unsaved changes", f"{document.display_name} has unsaved changes. {what}?",
                             [("Save first", lambda: self.save(after=then)), ("Discard them", then), ("Cancel", None)])

    def new(self) -> None:
        self._unless_unsaved("Start a new world", lambda: self.app.session.new())

    def open(self) -> None:
        self._unless_unsaved("Open another world", lambda: self.app.dialogs.choose_file(
            "Open a world", self.open_path, self._folder()))

    def visit(self) -> None:
        """File > Visit a grid...: the login dialog; the region opens read-only (``visit_dialog.py``)."""
        self._unless_unsaved("Visit a grid instead", self.app.visit_dialog.open)

    def open_path(self, path: Path | str) -> bool:
        """Open a world file (or a prefab file of an enabled folder pack, to edit it on its own); a
        broken one shows the loader's message and the open world stays."""
        try:
            if str(path).lower().endswith(".prefab.json"):
                return self.open_prefab_path(Path(path))
            self.app.session.open(path)
        except StormError as exc:
            log.error("could not open %s: %s", path, exc)
            self.app.dialogs.tell("Could not open the world", str(exc))
            return False
        except OSError as exc:
            self.app.dialogs.tell("Could not open the world", f"{path}: {exc.strerror or exc}")
            return False
        self.app.offer_recovery()
        return True

    def edit_prefab(self, asset_id: str) -> None:
        """Open a prefab on its own (asking first about unsaved changes); a broken one is shown."""
        from editor.prefab_tools import open_prefab

        def go() -> None:
            try:
                open_prefab(self.app.session, asset_id)
            except StormError as exc:
                self.app.dialogs.tell("Could not open the prefab", str(exc))

        self._unless_unsaved("Edit the prefab instead", go)

    def back_to_world(self) -> None:
        """From a prefab open on its own back to the world that was open before it."""
        came_from = getattr(self.app.session.document, "came_from", None)
        if came_from is None:
            self.app.session.say("no world to go back to: open one (File > Open recent)")
            return
        self._unless_unsaved("Go back to the world", lambda: self.open_path(came_from))

    def open_prefab_path(self, path: Path) -> bool:
        from editor.prefab_tools import open_prefab

        asset_id = self.app.session.runtime.content.asset_id_for(path)
        if asset_id is None:
            self.app.dialogs.tell("Could not open the prefab", f"{path} is not inside an enabled folder pack")
            return False
        open_prefab(self.app.session, asset_id)
        return True

    def save(self, after: Callable[[], None] | None = None) -> None:
        session = self.app.session
        if session.document is None:
            return
        if session.read_only:
            raise EditRefused(f"{session.read_only}; a visited region is not saved")
        if session.document.path is None:
            self.save_as(after)
            return
        self._write(session.document.path, after)

    def save_as(self, after: Callable[[], None] | None = None) -> None:
        if self.app.session.read_only:
            raise EditRefused(f"{self.app.session.read_only}; a visited region is not saved")
        document = self.app.session.document
        name = document.path.name if document and document.path else f"{document.world.name if document else 'world'}.world.json"
        self.app.dialogs.choose_file("Save the world as", lambda p: self._write(p, after), self._folder(), name)

    def _write(self, path: Path, after: Callable[[], None] | None) -> None:
        try:
            self.app.session.save(path)
        except (EditRefused, StormError, OSError, ValueError) as exc:
            self.app.dialogs.tell("Could not save", str(exc))
            return
        if after is not None:
            after()

    def _folder(self) -> Path:
        document = self.app.session.document
        return document.path.parent if document is not None and document.path is not None else Path.cwd()

    # -- view and tools -----------------------------------------------------------------------------
    def tool(self, name: str) -> None:
        """W / E / R: choose the translate / rotate / scale gizmo; again: world / local axes."""
        said = self.app.session.gizmo.choose(name)
        if said:
            self.app.session.say(said)
        self.app.tool = self.app.session.gizmo.tool
        self.app.overlay_dirty = True

    def snap(self) -> None:
        """Snapping on or off (Ctrl held during a drag turns it the other way)."""
        session = self.app.session
        session.prefs.snap_on = not session.prefs.snap_on
        session._save_prefs()
        show_snap_on(session.prefs.snap_on)
        prefs = session.prefs
        session.say(f"snapping {'on' if prefs.snap_on else 'off'} ({prefs.snap_step} m, {prefs.snap_angle} deg, "
                    f"x{prefs.snap_scale}); Ctrl turns it the other way while dragging")
        self.app.overlay_dirty = True

    def shading(self) -> None:
        session = self.app.session
        session.set_shading("full" if session.renderer.shading == "edit" else "edit")
        session.say(f"{session.renderer.shading} shading")

    def low_res(self) -> None:
        prefs = self.app.session.prefs
        prefs.low_res_moving = not prefs.low_res_moving
        self.app.session.say("half resolution while the camera moves" if prefs.low_res_moving
                             else "full resolution while the camera moves")

    def view(self, name: str) -> None:
        self.app.session.camera.preset(name)
        self.app.session.renderer.request()

    # -- play ------------------------------------------------------------------------------------------
    def play(self) -> None:
        session = self.app.session
        if session.play.playing:
            session.stop_play()
        else:
            self.app.controller.cancel()
            session.start_play()

    def pause(self) -> None:
        play = self.app.session.play
        if play.playing:
            play.paused = not play.paused

    def step(self) -> None:
        session = self.app.session
        if session.play.playing:
            session.play.paused = True
            session.play.step_once(1.0 / session.world.tick_rate)
            self.app.view.show_frame()

    def escape(self) -> None:
        if self.app.visit_dialog.shown:
            self.app.visit_dialog.cancel()
        elif self.app.controller.busy:
            self.app.controller.cancel()
        elif self.app.session.play.playing:
            self.app.session.stop_play()
