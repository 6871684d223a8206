"""File > Visit a grid...: the dialog that logs in to an OpenSimulator grid and opens its region
as a read-only, live document (``visit_document.py``).

The login URI and the first and last name are remembered in the editor's settings; the password
is a masked field that is never remembered, logged or written anywhere, and is cleared when the
dialog closes. The login runs on a worker thread while the editor goes on: the dialog says
"connecting..." with the seconds so far, then either shows why it failed in red (the grid's own
reason for a wrong password, "cannot reach the login service" where nothing listens) with the
open document untouched, or enters the region: the document opens, the dialog closes, and the
camera goes to your avatar once the region shows it. ``submit`` is what the Visit button runs
with the fields' values (the scripting driver calls it too).
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import dearpygui.dearpygui as dpg

from editor.camera_control import bounds_of
from editor.visit_document import GridLogin, VisitDocument

if TYPE_CHECKING:
    from editor.session import Session

log = logging.getLogger("storm.editor")
DEFAULT_URI = "http://127.0.0.1:9000/"
FRAME_WITHIN_S = 30.0          # how long the camera waits for the avatar to show
ERROR_COLOUR = (255, 110, 90, 255)
BUSY_COLOUR = (200, 200, 140, 255)
FIELDS = {"uri": "storm_visit_uri", "first": "storm_visit_first", "last": "storm_visit_last",
          "password": "storm_visit_password"}


class VisitDialog:
    """The Visit a grid dialog, and the login it runs."""

    def __init__(self, session: "Session") -> None:
        self.session = session
        self.login: GridLogin | None = None
        self.error = ""             # why the last try failed ('' when it did not)
        self.shown = False
        self._framing: tuple[VisitDocument, float] | None = None

    def build(self) -> None:
        with dpg.window(label="Visit a grid", tag="storm_visit_window", modal=True, show=False, no_close=True,
                        autosize=True, no_collapse=True, no_saved_settings=True, min_size=(460, 100)):
            dpg.add_text("Log in to an OpenSimulator grid and look at its region (read-only).")
            dpg.add_input_text(label="login URI", tag=FIELDS["uri"], width=320, hint=DEFAULT_URI)
            dpg.add_input_text(label="first name", tag=FIELDS["first"], width=320)
            dpg.add_input_text(label="last name", tag=FIELDS["last"], width=320)
            dpg.add_input_text(label="password", tag=FIELDS["password"], width=320, password=True, on_enter=True,
                               callback=lambda: self.go())
            dpg.add_text("", tag="storm_visit_status", wrap=440)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Visit", tag="storm_visit_go", callback=lambda: self.go())
                dpg.add_button(label="Cancel", callback=lambda: self.cancel())

    def text_fields(self) -> list[str]:
        return list(FIELDS.values())

    @property
    def busy(self) -> bool:
        """A login is running, or the camera waits for the avatar: the editor's loop keeps turning."""
        return self.login is not None or self._framing is not None

    # -- opening and answering ------------------------------------------------------------------------
    def open(self) -> None:
        prefs = self.session.prefs
        self.shown = True
        if not dpg.does_item_exist("storm_visit_window"):
            return
        if self.login is None:
            for key, value in (("uri", prefs.visit_uri or DEFAULT_URI), ("first", prefs.visit_first),
                               ("last", prefs.visit_last), ("password", "")):
                dpg.set_value(FIELDS[key], value)
            self._status("", BUSY_COLOUR)
        width, height = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
        dpg.configure_item("storm_visit_window", show=True)
        dpg.set_item_pos("storm_visit_window", (max(0, width // 2 - 240), max(0, height // 2 - 120)))

    def go(self) -> str:
        """The Visit button: log in with what the fields hold."""
        values = {key: str(dpg.get_value(tag) or "") for key, tag in FIELDS.items()}
        return self.submit(values["uri"].strip(), values["first"].strip(), values["last"].strip(), values["password"])

    def submit(self, uri: str, first: str, last: str, password: str) -> str:
        """Start logging in; '' when it started, else why not (also shown in the dialog)."""
        if self.login is not None:
            return self._fail("a login is running already: wait for it, or Cancel")
        if not uri.startswith(("http://", "https://")):
            return self._fail("the login URI starts with http:// or https:// (e.g. http://127.0.0.1:9000/)")
        if not first or not last or " " in first + last:
            return self._fail("a first and a last name, one word each (e.g. Test and User)")
        if not password:
            return self._fail("the password is empty")
        self.error = ""
        self.login = GridLogin(uri, first, last, password)
        self._status(f"connecting to {uri} as {first} {last}...", BUSY_COLOUR)
        self._enable(False)
        log.info("logging in to %s as %s %s", uri, first, last)
        return ""

    def cancel(self) -> None:
        """Close the dialog; a login still running is abandoned (its answer is dropped)."""
        if self.login is not None:
            log.info("the login to %s was abandoned", self.login.uri)
            self.login = None
            self._enable(True)
        self._hide()

    # -- each frame --------------------------------------------------------------------------------------
    def poll(self) -> bool:
        """Follow the login (and, once in, the camera's wait for the avatar); True when something happened."""
        self._follow_avatar()
        login = self.login
        if login is None:
            return False
        if not login.done:
            self._status(f"connecting to {login.uri} as {login.first} {login.last}... {login.seconds:.0f} s",
                         BUSY_COLOUR)
            return False
        self.login = None
        self._enable(True)
        if login.reply is None:
            self._fail(f"could not log in: {login.error}")
            return True
        self._status(f"logged in; entering the region at {login.reply.sim_ip}:{login.reply.sim_port}...", BUSY_COLOUR)
        try:
            document = VisitDocument.enter(login.uri, login.first, login.last, login.reply)
        except Exception as exc:  # noqa: BLE001 - the circuit could not open: said, the open document stays
            self._fail(f"logged in, but the region's circuit did not open: {type(exc).__name__}: {str(exc)[:300]}")
            return True
        prefs = self.session.prefs
        prefs.visit_uri, prefs.visit_first, prefs.visit_last = login.uri, login.first, login.last
        self.session._save_prefs()
        self.session.adopt(document, f"visiting {login.uri} as {login.first} {login.last}: "
                                     f"{document.read_only}")
        self._framing = (document, time.monotonic())
        self._hide()
        return True

    def _follow_avatar(self) -> None:
        """Once the region shows our avatar, the camera goes to it (once)."""
        if self._framing is None:
            return
        document, since = self._framing
        session = self.session
        avatar = document.visit.session.mirror.local_avatar
        if session.document is not document or time.monotonic() - since > FRAME_WITHIN_S:
            self._framing = None
        elif avatar and document.world.exists(avatar):
            found = bounds_of(document.world, [avatar])
            if found is not None:
                session.camera.frame(found[0], 6.0)
                session.renderer.request()
            self._framing = None

    # -- widgets ---------------------------------------------------------------------------------------
    def _fail(self, reason: str) -> str:
        self.error = reason
        log.warning("visit a grid: %s", reason)
        self._status(reason, ERROR_COLOUR)
        return reason

    def _status(self, text: str, colour: tuple[int, int, int, int]) -> None:
        if dpg.does_item_exist("storm_visit_status"):
            dpg.configure_item("storm_visit_status", color=colour)
            dpg.set_value("storm_visit_status", text)

    def _enable(self, on: bool) -> None:
        if dpg.does_item_exist("storm_visit_go"):
            dpg.configure_item("storm_visit_go", enabled=on, label="Visit" if on else "Connecting...")

    def _hide(self) -> None:
        self.shown = False
        if dpg.does_item_exist("storm_visit_window"):
            dpg.set_value(FIELDS["password"], "")
            dpg.configure_item("storm_visit_window", show=False)
