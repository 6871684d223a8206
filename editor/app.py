"""The editor window: one Dear PyGui viewport (Dear PyGui 2.3 allows one per process) with docked
panels (toolbar, scene tree, asset browser, 3D view, console, history, help, inspector, plugins,
NPCs), the menu bar, shortcuts, and the loop that runs it all on the main thread.

The loop: draw the UI frame; run the callbacks it queued (manual callback management: every
callback runs here, on the thread that owns Panda3D and the World); feed the 3D view's mouse and
keys; run Play or, when something changed, draw the view once (or, once it is still, show the frame
drawn last: the view's read back runs a frame late); refresh the panels that changed;
autosave when due. A live document (a visited region, ``visit_document.py``) runs its World each
frame, before the changes are looked at, so what the region sent shows in the same frame. With
nothing to do for half a second the loop asks Dear PyGui to wait for the next input event
(``wait_for_input``) instead of drawing frames nobody looks at, after flushing the autosave; when
busy (Play, a live document, a login running) it draws at most ``fps`` frames a second.
"""
from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dearpygui.dearpygui as dpg

from editor import layout as layouts
from editor.actions import EditorActions
from editor.asset_browser import AssetBrowser
from editor.console import ConsoleLog, ConsolePanel
from editor.dialogs import Dialogs
from editor.file_watch import FileWatch
from editor.gl_contexts import GLContexts
from editor.history_panel import HistoryPanel
from editor.inspector import Inspector
from editor.menus import build_menu_bar, build_toolbar, fill_recent
from editor.npc_panel import NpcPanel
from editor.pickers import ClickTaker, PickerPopup
from editor.play_input import EditorPlaySource
from editor.plugin_panels import PluginPanels
from editor.scene_marks import SelectionTint, make_grid
from editor.scene_tree import SceneTree
from editor.session import Session
from editor.settings import layout_path, load_prefs
from editor.shortcuts import build_help, match
from editor.snap_settings import build_snap_settings
from editor.view_panel import ViewPanel
from editor.viewport import ViewRenderer
from editor.visit_dialog import VisitDialog

if TYPE_CHECKING:
    from engine.host.runtime import Runtime
    from plugins.host import PluginHost

log = logging.getLogger("storm.editor")
IDLE_AFTER_S = 0.5
PANELS = (  # name, label; created in this order (their uuids name them in the saved layout)
    ("toolbar", "Toolbar"), ("scene", "Scene"), ("assets", "Assets"), ("view", "3D View"),
    ("console", "Console"), ("history", "History"), ("help", "Help"), ("inspector", "Inspector"),
    ("plugins", "Plugins"), ("npcs", "NPCs"),
)


class EditorApp:
    """The whole editor. ``interactive=False`` (the scripting driver): the loop never waits for
    input and settings (preferences, layout) are not written. ``plugins``: the running plugins of
    the runtime's packs, whose panels, menu items and inspector sections the editor shows."""

    def __init__(self, runtime: "Runtime", world: Path | str | None = None, size: tuple[int, int] = (1280, 800),
                 interactive: bool = True, fps: float = 60.0, plugins: "PluginHost | None" = None) -> None:
        self.size = size
        self.interactive = interactive
        self.fps = fps
        self.prefs = load_prefs()
        self.contexts = GLContexts()
        self.renderer = ViewRenderer(self.contexts, layouts.view_size_guess(size))
        self.session = Session(runtime, self.renderer, self.prefs, save_settings=interactive)
        self.controller = ClickTaker(self.session)  # the view's ViewController, plus "the next click goes to..."
        self.grid = make_grid(self.renderer.overlay)
        self.tint = SelectionTint(self.renderer.overlay)
        self.console_log = ConsoleLog()
        logging.getLogger().addHandler(self.console_log)
        storm_log = logging.getLogger("storm")
        if storm_log.getEffectiveLevel() > logging.INFO:  # nobody configured logging: show the engine's info
            storm_log.setLevel(logging.INFO)
        self.tree = SceneTree(self.session)
        self.inspector = Inspector(self.session)
        self.assets = AssetBrowser(self.session, "openal" if interactive else "")  # a person hears previews
        self.history = HistoryPanel(self.session)
        self.view = ViewPanel(self.session, self.controller)
        self.console = ConsolePanel(self.console_log, self.select_entity)
        self.plugins = PluginPanels(self.session, plugins)
        self.inspector.extra_section = self.plugins.inspector_section
        self.npcs = NpcPanel(self.session, lambda: self.actions["play"]())
        self.play_input: EditorPlaySource | None = None
        self.session.play.input_source = self._play_source
        self.dialogs = Dialogs()
        self.visit_dialog = VisitDialog(self.session)
        self.assets.view, self.assets.controller = self.view, self.controller
        self.inspector.choosers.picker, self.inspector.choosers.controller = PickerPopup(self.session), self.controller
        self.file_watch = FileWatch(self.session, self.dialogs.ask)
        self.actions = EditorActions(self)
        self.assets.edit_prefab_action, self.assets.back_action = self.actions.edit_prefab, self.actions.back_to_world
        self.tool = "translate"
        self.overlay_dirty = True
        self.running = True
        self.windows: dict[str, Any] = {}
        self._seen: tuple = ()
        self._title = ""
        self._waiting = False
        self._last_frame = time.monotonic()
        self._last_activity = time.monotonic()
        self.frames = 0
        self._build()
        self._open_first(world)

    # -- building ---------------------------------------------------------------------------------
    def _build(self) -> None:
        dpg.create_context()
        for name, label in PANELS:
            self.windows[name] = dpg.add_window(label=label, tag=f"storm_{name}_window", no_close=True,
                                                no_collapse=True, no_scrollbar=name in ("view", "toolbar"),
                                                no_scroll_with_mouse=name == "view", no_title_bar=name == "toolbar")
        labels = {name: f"###{dpg.get_alias_id(tag)}" for name, tag in self.windows.items()}
        key = layouts.layout_key(labels)
        if self.interactive:
            ini = layout_path()
        else:  # a scripted editor starts from the default layout and leaves the user's alone
            self._scratch = tempfile.TemporaryDirectory(prefix="storm-editor-")
            ini = Path(self._scratch.name) / "layout.ini"
        if not ini.is_file() or self.prefs.layout_key != key or not self.interactive:
            ini.parent.mkdir(parents=True, exist_ok=True)
            ini.write_text(layouts.default_layout(labels, self.size), encoding="utf-8")
            self.prefs.layout_key = key
        self._layout_key = key
        dpg.configure_app(docking=True, docking_space=True, manual_callback_management=True, init_file=str(ini),
                          load_init_file=True)
        build_menu_bar(self.actions, lambda kind: self.actions.guarded(lambda: self.session.create(kind),
                                                                      f"create {kind}")())
        build_toolbar(self.windows["toolbar"], self.actions)
        build_snap_settings("storm_snap_steps_button", self.session)
        self.tree.build(self.windows["scene"])
        self.assets.build(self.windows["assets"])
        self.view.build(self.windows["view"])
        self.console.build(self.windows["console"])
        self.history.build(self.windows["history"])
        build_help(self.windows["help"])
        self.inspector.build(self.windows["inspector"])
        self.plugins.build(self.windows["plugins"])
        self.plugins.build_menu("storm_menu")
        self.npcs.build(self.windows["npcs"])
        self.dialogs.build()
        self.visit_dialog.build()
        self.inspector.choosers.picker.build()
        with dpg.handler_registry(tag="storm_keys"):
            dpg.add_key_press_handler(callback=self._key_pressed)
        dpg.create_viewport(title="Storm editor", width=self.size[0], height=self.size[1], x_pos=0, y_pos=0,
                            vsync=False, disable_close=True)
        dpg.set_exit_callback(lambda: self.request_quit())
        dpg.setup_dearpygui()
        dpg.show_viewport()
        self.contexts.capture_ui()
        fill_recent(self.prefs.recent, self.actions.open_path)

    def _open_first(self, world: Path | str | None) -> None:
        self.session.new()
        if world is not None and not self.actions.open_path(world):
            return
        if world is None:
            self.offer_recovery()

    def offer_recovery(self) -> None:
        """If the last session left autosaved changes for this world, ask whether to bring them back."""
        found = self.session.pending_recovery()
        if found is None:
            return
        self.dialogs.ask("Recover unsaved changes?",
                         f"The editor did not close cleanly last time. Autosaved changes to {found.describe()} "
                         "were kept.\nRecover them (they stay unsaved until you save), or discard them?",
                         [("Recover", lambda: self.session.recover(found)),
                          ("Discard", lambda: self.session.discard_recovery(found))])

    # -- helpers the actions use ---------------------------------------------------------------------
    def select_entity(self, eid: int) -> None:
        if self.session.document is not None and self.session.world.exists(eid):
            self.session.selection.set([eid])
            self.tree.open_to(eid)

    def toggle_grid(self) -> None:
        self.prefs.grid = not self.prefs.grid
        self.grid.show() if self.prefs.grid else self.grid.hide()
        self.renderer.request()

    def show_help(self) -> None:
        dpg.focus_item(self.windows["help"])

    def show_npcs(self) -> None:
        dpg.focus_item(self.windows["npcs"])

    def reset_layout(self) -> None:
        layout_path().unlink(missing_ok=True)
        self.prefs.layout_key = ""
        self.session.say("the default panel layout comes back at the next start")

    def typing(self) -> bool:
        """Whether a text field has the keyboard (single-key shortcuts then stay out of its way)."""
        fields = ["storm_tree_filter", "storm_console_filter", "storm_assets_filter", "storm_rename_text",
                  "storm_snap_step", "storm_snap_angle", "storm_snap_scale", "storm_prefab_name", "storm_picker_filter"]
        fields += self.inspector.text_fields() + self.npcs.text_fields() + self.visit_dialog.text_fields()
        return any(dpg.does_item_exist(item) and dpg.is_item_active(item) for item in fields)

    def _play_source(self, actions: Any) -> EditorPlaySource:
        self.play_input = EditorPlaySource(actions, self._game_has_keys, lambda: self.view.size[1])
        return self.play_input

    def _game_has_keys(self) -> bool:
        """While Play runs (not paused) and the pointer is over the 3D view, keys go to the game."""
        play = self.session.play
        return (play.playing and not play.paused and bool(self.view.drawlist)
                and dpg.is_item_hovered(self.view.drawlist) and not self.typing())

    def _key_pressed(self, _sender: int, key: int) -> None:
        ctrl = dpg.is_key_down(dpg.mvKey_LControl) or dpg.is_key_down(dpg.mvKey_RControl)
        shift = dpg.is_key_down(dpg.mvKey_LShift) or dpg.is_key_down(dpg.mvKey_RShift)
        game = self.play_input is not None and self._game_has_keys()
        if game:
            self.play_input.pressed(key)
        shortcut = match(key, ctrl, shift, self.typing() or game)   # the game's keys are not shortcuts
        if shortcut is not None and self.controller.looking and not shortcut.ctrl and shortcut.action != "escape":
            return  # W A S D Q E fly while the right button is held: they are not tool keys then
        if shortcut is not None and ((self.dialogs.current is None and not self.visit_dialog.shown)
                                     or shortcut.action == "escape"):
            self.actions[shortcut.action]()

    def request_quit(self) -> None:
        document = self.session.document
        if document is None or not document.dirty:
            self.running = False
            return

        def discard() -> None:
            self.session.recovery.discard(document.path)
            self.running = False

        self.dialogs.ask("Unsaved changes", f"Save the changes to {document.display_name} before closing?",
                         [("Save", lambda: self.actions.save(after=self._stop)), ("Don't save", discard),
                          ("Cancel", None)])

    def _stop(self) -> None:
        self.running = False

    # -- the loop --------------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            while self.running and dpg.is_dearpygui_running():
                try:
                    self.frame()
                except Exception:  # noqa: BLE001 - a bug in one frame must not lose the open world
                    log.exception("the editor loop failed this frame; it goes on (save your work)")
                    time.sleep(0.1)
        finally:
            self.close()

    def frame(self) -> None:
        """One turn of the loop (see the module docstring)."""
        now = time.monotonic()
        seconds, self._last_frame = min(now - self._last_frame, 0.25), now
        self.contexts.to_ui()
        self.view.drop_old_textures()
        dpg.render_dearpygui_frame()
        self.view.after_ui_frame()
        self.frames += 1
        if self._run_callbacks():
            self._last_activity = time.monotonic()
        session = self.session
        self.view.sync_size()
        self.view.poll(seconds, self.typing())
        if self.view.last_input > self._last_activity:
            self._last_activity = self.view.last_input
        if self.assets.poll() or self.file_watch.check() or self.visit_dialog.poll():
            self._last_activity = time.monotonic()
        session.tick_live(seconds)
        self._follow_changes()
        if session.play.playing:
            self._draw_view(lambda: session.play.tick(seconds))
        elif self.renderer.wanted:
            self._draw_view(self.renderer.draw)
        elif self.renderer.pending:   # the view is still: show the frame drawn last
            self.renderer.collect()
            self.view.show_frame()
        if self.overlay_dirty:
            self.view.draw_overlay()
            self.overlay_dirty = False
        self._refresh_panels()
        self._idle_or_pace(now)

    def _run_callbacks(self) -> bool:
        jobs = dpg.get_callback_queue()
        if not jobs:
            return False
        for job in jobs:
            callback = job[0]
            if callback is None:
                continue
            try:
                dpg.run_callbacks([job])
            except Exception:  # noqa: BLE001 - one failing widget callback must not end the editor
                log.exception("a panel callback failed (%s)", getattr(callback, "__qualname__", callback))
        return True

    def _follow_changes(self) -> None:
        """Notice what changed since the last frame (document, selection, camera) and ask for redraws."""
        session = self.session
        document = session.document
        seen = (document.version if document else -1, session.selection.version, session.camera.version,
                id(document))
        if seen != self._seen:
            if not self._seen or seen[0] != self._seen[0] or seen[3] != self._seen[3]:
                self.tint.invalidate()
            self._seen = seen
            self.renderer.request()
            self.overlay_dirty = True
            self._last_activity = time.monotonic()

    def _draw_view(self, draw: Any) -> None:
        session = self.session
        self.renderer.sync_terrains()   # the coarse terrain of edit shading exists before the tint looks
        self.tint.sync(session.world if session.document else None, session.selection.ids)
        session.marks.sync(session.world if session.document else None, self.renderer.app.base.cam, session.play.playing)
        draw()
        self.view.show_frame()
        self.overlay_dirty = True

    def _refresh_panels(self) -> None:
        self.tree.refresh()
        self.inspector.refresh()
        self.history.refresh()
        self.console.refresh()
        self.plugins.refresh()
        self.npcs.refresh()
        session = self.session
        if session.document is not None:
            title = session.document.title()
            if title != self._title:
                self._title = title
                dpg.set_viewport_title(title)
        if dpg.does_item_exist("storm_status"):
            dpg.set_value("storm_status", session.message[:160])
        if dpg.does_item_exist("storm_play_button"):
            dpg.configure_item("storm_play_button", label="Stop" if session.play.playing else "Play")

    def _idle_or_pace(self, started: float) -> None:
        session = self.session
        document = session.document
        busy = (session.play.playing or self.renderer.wanted or self.renderer.pending or self.controller.busy
                or self.visit_dialog.busy or (document is not None and document.live)
                or time.monotonic() - self._last_activity < IDLE_AFTER_S)
        if document is not None and not session.play.playing and not document.read_only:
            session.autosave.tick(document, idle=not busy)
        wait = self.interactive and not busy and self.dialogs.current is None
        if wait != self._waiting:
            dpg.configure_app(wait_for_input=wait)
            self._waiting = wait
        if busy and self.fps > 0:
            rest = 1.0 / self.fps - (time.monotonic() - started)
            if rest > 0:
                time.sleep(rest)

    # -- closing -------------------------------------------------------------------------------------
    def close(self) -> None:
        """Save the layout and preferences (interactive), and let go of everything."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        self.session.close()
        self.assets.close()
        if self.interactive:
            try:
                layout_path().parent.mkdir(parents=True, exist_ok=True)
                self.contexts.to_ui()
                dpg.save_init_file(str(layout_path()))
                self.prefs.layout_key = self.prefs.layout_key or self._layout_key
                self.session._save_prefs()
            except (OSError, SystemError) as exc:
                log.warning("could not save the panel layout: %s", exc)
        logging.getLogger().removeHandler(self.console_log)
        self.contexts.to_ui()
        dpg.destroy_context()
        self.renderer.close()
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            scratch.cleanup()
