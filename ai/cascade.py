"""The cascade: for each request kind, backends tried in order (local for decisions and short
lines, Grok for narrative, scripted last), each fallback logged with its reason; and the cache
that keeps the same narrative request from being paid for twice.

A request moves along the cascade from worker to worker without ever blocking the tick: when
a backend fails, its worker's callback submits the request to the next one.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass
from typing import Hashable

from ai.backends.base import BackendError, Cancelled, CancelToken, OnText, Request, Result
from ai.worker import Done, ModelWorker

log = logging.getLogger("storm.ai.cascade")


@dataclass(frozen=True)
class Fallback:
    """One step down the cascade: which backend gave up on what, why, and who was asked next."""

    kind: str
    backend: str
    reason: str
    next: str
    time: float


class ResultCache:
    """Answers to cacheable requests (narrative), by request key; least recently used go first.
    Thread-safe: workers write it, the tick reads it."""

    def __init__(self, entries: int = 256) -> None:
        self.entries = entries
        self._data: "collections.OrderedDict[str, Result]" = collections.OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str) -> Result | None:
        with self._lock:
            result = self._data.get(key)
            if result is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return result

    def put(self, key: str, result: Result) -> None:
        with self._lock:
            self._data[key] = result
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)


class Ticket:
    """A request in flight through the cascade; ``cancel()`` stops it wherever it is."""

    def __init__(self, request: Request, budget_ms: float) -> None:
        self.request = request
        self.budget_ms = budget_ms
        self.token = CancelToken()  # cancels the request wherever it is; each backend also gets its budget
        self.tried: list[str] = []
        self.fallbacks: list[Fallback] = []

    def cancel(self, reason: str = "cancelled") -> None:
        self.token.cancel(reason)


class Cascade:
    """Routes requests to backends' workers by kind, falling back in the configured order."""

    def __init__(self, workers: dict[str, ModelWorker], order: dict[str, tuple[str, ...]],
                 budgets_ms: dict[str, float], cache: ResultCache | None = None) -> None:
        self.workers = workers
        self.order = order
        self.budgets_ms = budgets_ms
        self.cache = cache or ResultCache()
        self.fallbacks: "collections.deque[Fallback]" = collections.deque(maxlen=200)
        self._tickets: dict[Hashable, list[Ticket]] = {}
        self._lock = threading.Lock()

    def backends_for(self, kind: str) -> list[str]:
        return [name for name in self.order.get(kind, ("scripted",)) if name in self.workers]

    def submit(self, request: Request, on_text: OnText | None, on_done: Done) -> Ticket:
        """Start ``request``; ``on_done(result, error)`` is called once, on some worker thread (or
        here, for a cached answer), with the first backend's answer that came back."""
        ticket = Ticket(request, self.budgets_ms.get(request.kind, 10_000.0))
        key = request.cache_key() if request.cache else ""
        if key:
            cached = self.cache.get(key)
            if cached is not None:
                hit = Result(**{**cached.__dict__, "cached": True, "latency_ms": 0.0, "first_token_ms": 0.0})
                if on_text is not None:
                    on_text(hit.text)
                on_done(hit, None)
                return ticket
        with self._lock:
            self._tickets.setdefault(request.owner, []).append(ticket)
        self._next(ticket, self.backends_for(request.kind), on_text, on_done, key)
        return ticket

    def _next(self, ticket: Ticket, remaining: list[str], on_text: OnText | None, on_done: Done, key: str) -> None:
        while remaining:
            name, rest = remaining[0], remaining[1:]
            worker = self.workers[name]
            ok, why = worker.backend.available()
            if not ok:
                self._fell(ticket, name, why, rest)
                remaining = rest
                continue
            if ticket.token.cancelled:
                self._finish(ticket, on_done, None, Cancelled(ticket.token.reason))
                return
            token = _LinkedToken(ticket.token, CancelToken(ticket.budget_ms))
            ticket.tried.append(name)

            def done(result: Result | None, error: BaseException | None, name: str = name,
                     rest: list[str] = rest) -> None:
                if result is not None:
                    if key:
                        self.cache.put(key, result)
                    self._finish(ticket, on_done, result, None)
                elif isinstance(error, Cancelled):
                    self._finish(ticket, on_done, None, error)
                else:
                    self._fell(ticket, name, getattr(error, "reason", str(error)), rest)
                    self._next(ticket, rest, on_text, on_done, key)

            try:
                worker.submit(ticket.request, token, on_text, done)
            except BackendError as exc:
                self._fell(ticket, name, exc.reason, rest)
                remaining = rest
                continue
            return
        self._finish(ticket, on_done, None, BackendError("every backend failed: " +
                                                         "; ".join(f"{f.backend}: {f.reason}" for f in ticket.fallbacks)))

    def _fell(self, ticket: Ticket, name: str, reason: str, rest: list[str]) -> None:
        step = Fallback(ticket.request.kind, name, reason, rest[0] if rest else "-", time.time())
        ticket.fallbacks.append(step)
        self.fallbacks.append(step)
        log.warning("%s request: %s gave up (%s); %s", ticket.request.kind, name, reason,
                    f"trying {rest[0]}" if rest else "no backend left")

    def _finish(self, ticket: Ticket, on_done: Done, result: Result | None, error: BaseException | None) -> None:
        with self._lock:
            tickets = self._tickets.get(ticket.request.owner)
            if tickets is not None and ticket in tickets:
                tickets.remove(ticket)
                if not tickets:
                    del self._tickets[ticket.request.owner]
        on_done(result, error)

    def cancel_owner(self, owner: Hashable, reason: str = "cancelled") -> None:
        """Cancel every request of ``owner`` (an NPC that despawned): in the cascade and in each worker."""
        with self._lock:
            tickets = self._tickets.pop(owner, [])
        for ticket in tickets:
            ticket.cancel(reason)
        for worker in self.workers.values():
            worker.cancel_owner(owner, reason)

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()


class _LinkedToken(CancelToken):
    """A backend's own token (its budget) that is also cancelled when the ticket is."""

    def __init__(self, parent: CancelToken, own: CancelToken) -> None:
        self.__dict__.update(own.__dict__)
        self._parent = parent

    def check(self) -> None:
        if self._parent.cancelled:
            raise Cancelled(self._parent.reason)
        super().check()

    @property
    def cancelled(self) -> bool:
        return self._parent.cancelled or self._event.is_set()

