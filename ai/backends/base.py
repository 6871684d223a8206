"""The one interface every backend implements, and the request/result records they share.

A backend is driven by exactly one worker thread (``ai.worker``), so implementations need not
be thread-safe; they must check the request's ``CancelToken`` often enough that cancelling an
NPC, or its budget running out, stops the work within a few tokens.
"""
from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

OnText = Callable[[str], None]


class BackendError(Exception):
    """A backend could not answer; ``reason`` is what the fallback log says."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BackendUnavailable(BackendError):
    """The backend is not there at all (no model file, no key, package missing)."""


class Cancelled(Exception):
    """The request was cancelled (its NPC despawned, its world unloaded)."""


class OverBudget(BackendError):
    """The request ran past its time budget."""


class CancelToken:
    """Shared between the requester and the worker: ``cancel()`` from any thread; ``check()``
    from the worker raises Cancelled or OverBudget."""

    def __init__(self, budget_ms: float | None = None) -> None:
        self._event = threading.Event()
        self.deadline = time.perf_counter() + budget_ms / 1000.0 if budget_ms else None
        self.reason = ""

    def cancel(self, reason: str = "cancelled") -> None:
        self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def remaining_s(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline - time.perf_counter()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled(self.reason)
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise OverBudget("past its time budget")


@dataclass
class Request:
    """One thing asked of a model. ``schema`` (JSON schema) and ``grammar`` (GBNF, llama.cpp
    only) constrain the output; ``owner`` groups requests for cancellation (an NPC);
    ``context`` is what the scripted backend reads (persona id, the line heard, allowed actions)."""

    kind: str
    messages: list[dict[str, str]]
    max_tokens: int = 64
    temperature: float = 0.7
    schema: dict[str, Any] | None = None
    grammar: str | None = None
    stop: list[str] = field(default_factory=list)
    owner: Hashable = None
    cache: bool = False
    context: dict[str, Any] = field(default_factory=dict)

    def cache_key(self) -> str:
        """What makes two requests the same for the narrative cache."""
        import hashlib
        import json

        text = json.dumps([self.kind, self.messages, self.schema, self.max_tokens, self.temperature],
                          sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Result:
    """A backend's answer with what it cost: tokens in and out, latency, time to first token."""

    text: str
    backend: str
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    first_token_ms: float = 0.0
    cached: bool = False
    last_token_ms: float = 0.0  # when the last piece came (0: unknown, latency is used)

    @property
    def tokens_per_s(self) -> float:
        """Decode rate: tokens after the first over the time from the first to the last."""
        seconds = ((self.last_token_ms or self.latency_ms) - self.first_token_ms) / 1000.0
        return (self.completion_tokens - 1) / seconds if seconds > 0 and self.completion_tokens > 1 else 0.0


class Backend(ABC):
    """A model (or the scripted stand-in) that answers Requests, one at a time."""

    name: str = "backend"

    def available(self) -> tuple[bool, str]:
        """Whether requests can be sent now, and if not, why (for the fallback log)."""
        return True, ""

    @abstractmethod
    def generate(self, request: Request, on_text: OnText | None, token: CancelToken) -> Result:
        """Answer ``request``; stream text pieces to ``on_text`` as they come (from the worker
        thread). Raises BackendError (and subclasses), Cancelled."""

    def embed(self, texts: list[str], token: CancelToken) -> list[list[float]] | None:
        """Embedding vectors for ``texts``, or None when this backend has none."""
        return None

    def close(self) -> None:
        """Free what the backend holds (model memory, connections)."""
