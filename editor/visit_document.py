"""A visited OpenSimulator region as an editor document: read-only and live.

``GridLogin`` logs in (XML-RPC ``login``, which can take seconds) on a worker thread so the
editor's loop goes on; ``VisitDocument.enter`` then opens the circuit (``Visit.start`` with that
reply: quick, the region's messages come afterwards) in a runtime of its own: the region's terrain
is a private pack mounted in its runtime's content, which cannot be unmounted, so each visit gets a
fresh runtime over the base pack and the next visit can mount its own.

The document's World is the region's mirror: the editor never applies a command to it
(``read_only`` says why, and the session refuses every edit with that reason). It is ``live``:
``tick`` runs it each editor frame, so what the region sends arrives, and marks the document
changed when a tick applied something (the tree, inspector and view follow). When the circuit
closes (the region kicked us, or went silent) the World stops and keeps the last state it had.
Another document opened logs out on a thread (``close``: the editor does not wait for the
region's answer); quitting logs out and waits for it, bounded (``release``).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from editor.document import Document
from engine.core.events import CommandApplied
from netcode.opensim.login import LoginError, LoginReply, login

if TYPE_CHECKING:
    from netcode.opensim.visit import Visit

log = logging.getLogger("storm.editor")
LOGIN_TIMEOUT_S = 30.0
LOGOUT_TIMEOUT_S = 5.0      # the editor waits at most this long for LogoutReply
SILENT_S = 60.0             # nothing heard for this long: the region is taken as gone (as viewers do)
LONGEST_TICK_S = 0.1


class GridLogin:
    """One login running on a worker thread; ``done`` once it ended, then ``reply`` or ``error``.
    The password lives only in the worker's call."""

    def __init__(self, uri: str, first: str, last: str, password: str, timeout: float = LOGIN_TIMEOUT_S) -> None:
        self.uri, self.first, self.last = uri, first, last
        self.started = time.monotonic()
        self.reply: LoginReply | None = None
        self.error = ""
        self._done = threading.Event()
        threading.Thread(target=self._run, args=(password, timeout), name="storm-grid-login", daemon=True).start()

    def _run(self, password: str, timeout: float) -> None:
        try:
            self.reply = login(self.uri, self.first, self.last, password, timeout=timeout)
        except LoginError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - whatever went wrong is shown, the editor goes on
            self.error = f"{self.uri}: the login failed ({type(exc).__name__}: {str(exc)[:300]})"
        finally:
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started


class VisitDocument(Document):
    """An OpenSimulator region being visited: its World shown read-only, running by itself."""

    def __init__(self, visit: "Visit", uri: str) -> None:
        super().__init__(visit.world, None)
        self.visit = visit
        self.uri = uri
        self.ended = ""            # why the circuit closed ('' while it is open)
        self._leaving: threading.Thread | None = None
        self._applied = 0          # commands the region's tick applied to the World
        self._seen = (0, 0)
        self._unsubscribe = visit.world.events.subscribe(CommandApplied, self._count)

    @classmethod
    def enter(cls, uri: str, first: str, last: str, reply: LoginReply) -> "VisitDocument":
        """Open the circuit of a login already made, in a runtime of the visit's own."""
        from engine.host.runtime import create_runtime
        from netcode.opensim.visit import Visit

        visit = Visit.start(uri, first, last, "", create_runtime(), reply=reply)
        return cls(visit, uri)

    def _count(self, _event: Any) -> None:
        self._applied += 1

    # -- what it is ---------------------------------------------------------------------------------
    @property
    def region(self) -> str:
        return self.visit.session.region_name or f"{self.visit.reply.sim_ip}:{self.visit.reply.sim_port}"

    @property
    def live(self) -> bool:  # type: ignore[override]
        return not self.ended

    @property
    def read_only(self) -> str:  # type: ignore[override]
        if self.ended:
            return (f"read-only: the region closed the circuit ({self.ended}); this is the last of "
                    f"{self.region} it showed")
        return (f"read-only: {self.region} is a visit to {self.uri} and the region owns what it shows "
                "(File > New or Open leaves it)")

    @property
    def display_name(self) -> str:
        return f"{self.region} ({'left' if self.ended else 'visiting'} {self.uri}, read-only)"

    def title(self) -> str:
        return f"{self.display_name} - Storm editor"

    # -- running --------------------------------------------------------------------------------------
    def tick(self, seconds: float) -> str:
        """Run the region's World one tick (what the region sent is applied); news when the circuit closed."""
        if self.ended:
            return ""
        circuit = self.visit.circuit
        if circuit.closed.is_set():
            return self._end(circuit.closed_reason or "closed")
        if circuit.last_received and time.monotonic() - circuit.last_received > SILENT_S:
            return self._end(f"nothing heard from the region for {SILENT_S:.0f} s")
        try:
            self.world.tick(min(max(seconds, 1e-3), LONGEST_TICK_S))
        except Exception as exc:  # noqa: BLE001 - a region the world cannot take must not end the editor
            log.exception("the visited region's world failed a tick")
            return self._end(f"the region's world failed ({type(exc).__name__}: {str(exc)[:200]})")
        textures = self.visit.session.textures
        seen = (self._applied, textures.stats["applied"] if textures is not None else 0)
        if seen != self._seen:
            self._seen = seen
            self.changed()
        return ""

    def _end(self, reason: str) -> str:
        self.ended = reason
        self.changed()
        return f"the region closed the circuit: {reason} (what it showed last stays, read-only)"

    # -- leaving ----------------------------------------------------------------------------------------
    def release(self) -> None:
        """The editor quits: log out, waiting (bounded) for LogoutReply so the region hears it."""
        self._leave().join()

    def close(self) -> None:
        """Another document replaces this one: log out on a thread of its own (the region may never
        answer: the editor does not wait for it) and let go of the World."""
        self._leave()
        super().close()

    def _leave(self) -> threading.Thread:
        if self._leaving is None:
            self._unsubscribe()
            self._leaving = threading.Thread(target=self._log_out, name="storm-grid-logout", daemon=True)
            self._leaving.start()
        return self._leaving

    def _log_out(self) -> None:
        replied = self.visit.close(timeout=LOGOUT_TIMEOUT_S)
        log.info("left %s (%s)", self.region, "logged out" if replied else
                 f"the circuit had closed: {self.ended}" if self.ended else "the region did not confirm the logout")
