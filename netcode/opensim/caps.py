"""Capabilities: the seed capability's map of HTTP services, and the event queue that it names.

Bodies are LLSD XML, written and read by the ``llsd`` package. The event queue is a long poll
(``EventQueueGet``: post the last id seen, get the next events) run on a daemon thread; its
events are counted by name and kept in a bounded list. Replies are read up to ``MAX_REPLY``
bytes; anything that is not the LLSD expected is logged and the poll tries again after a pause
(bounded: it gives up after ``MAX_FAILURES`` failures in a row).
"""
from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections import Counter, deque
from typing import Any, Callable

import llsd

log = logging.getLogger("storm.opensim")
MAX_REPLY = 1024 * 1024
MAX_FAILURES = 10
WANTED = ("EventQueueGet", "GetTexture", "ViewerAsset", "GetMesh", "SimulatorFeatures", "UpdateScriptAgent",
          "EnvironmentSettings")


class CapsError(Exception):
    """A capability that could not be asked, or that answered something other than the LLSD expected."""


def post_llsd(url: str, body: Any, timeout: float = 30.0) -> Any:
    """POST an LLSD XML body and parse the LLSD reply (bounded); raises CapsError."""
    return _ask(urllib.request.Request(url, data=llsd.format_xml(body), headers={"Content-Type": "application/llsd+xml"}),
                url, timeout)


def get_llsd(url: str, timeout: float = 30.0) -> Any:
    """GET a capability and parse its LLSD reply (bounded); raises CapsError."""
    return _ask(urllib.request.Request(url, headers={"Accept": "application/llsd+xml"}), url, timeout)


def _ask(request: urllib.request.Request, url: str, timeout: float) -> Any:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the grid's own URL)
            raw = response.read(MAX_REPLY + 1)
    except urllib.error.HTTPError as exc:
        raise CapsError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise CapsError(f"{url}: {getattr(exc, 'reason', exc)}") from None
    if len(raw) > MAX_REPLY:
        raise CapsError(f"{url}: a reply larger than {MAX_REPLY} bytes")
    try:
        return llsd.parse(raw)
    except Exception as exc:  # llsd raises its own parse errors (and expat's) for what it cannot read
        raise CapsError(f"{url}: not LLSD ({type(exc).__name__}: {str(exc)[:120]})") from None


def seed_capabilities(seed: str, wanted: tuple[str, ...] = WANTED) -> dict[str, str]:
    """The capability URLs the seed capability grants of ``wanted``."""
    reply = post_llsd(seed, list(wanted))
    if not isinstance(reply, dict):
        raise CapsError(f"{seed}: expected a map of capabilities, got {type(reply).__name__}")
    return {str(k)[:100]: v for k, v in reply.items() if isinstance(v, str) and v.startswith(("http://", "https://"))}


class EventQueue:
    """Follows a region's event queue on a daemon thread; ``names`` counts the events seen."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.capabilities: dict[str, str] = {}
        self.names: Counter[str] = Counter()
        self.events: deque[tuple[str, Any]] = deque(maxlen=100)
        self.error = ""
        self.on_capabilities: list[Callable[[dict[str, str]], None]] = []   # told (on this thread) once granted
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="storm-opensim-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        try:
            self.capabilities = seed_capabilities(self.seed)
        except CapsError as exc:
            self.error = str(exc)
            log.warning("opensim: no capabilities: %s", exc)
            return
        for hook in self.on_capabilities:
            hook(self.capabilities)
        url = self.capabilities.get("EventQueueGet")
        if not url:
            self.error = "the seed capability granted no EventQueueGet"
            return
        ack: Any = None
        failures = 0
        while not self._stop.is_set():
            try:
                reply = post_llsd(url, {"ack": ack, "done": False}, timeout=60)
            except CapsError as exc:
                if "HTTP 502" in str(exc) or "HTTP 504" in str(exc):   # a long poll that timed out empty
                    continue
                failures += 1
                if failures >= MAX_FAILURES:
                    self.error = f"the event queue failed {failures} times in a row: {exc}"
                    log.warning("opensim: %s", self.error)
                    return
                self._stop.wait(1.0)
                continue
            failures = 0
            if not isinstance(reply, dict):
                continue
            ack = reply.get("id") if isinstance(reply.get("id"), int) else ack
            for event in reply.get("events", [])[:1000] if isinstance(reply.get("events"), list) else []:
                if isinstance(event, dict) and isinstance(event.get("message"), str):
                    name = event["message"][:100]
                    self.names[name] += 1
                    self.events.append((name, event.get("body")))
