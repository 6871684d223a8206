"""One worker thread per model: it owns the backend (a ``Llama`` is not thread-safe), takes jobs
from a queue in priority order, streams text to the job's callback and hands back the result.

Nothing here touches a World: callbacks run on the worker thread, and the NpcSystem posts what
they bring to ``world.post`` so it is applied at the start of a tick. Jobs carry an owner (an
NPC); ``cancel_owner`` drops its queued jobs and stops the one running within a token.
"""
from __future__ import annotations

import itertools
import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Callable, Hashable

from ai.backends.base import Backend, BackendError, Cancelled, CancelToken, OnText, Request, Result

log = logging.getLogger("storm.ai.worker")
Done = Callable[[Result | None, BaseException | None], None]
STOP = "stop"
PRIORITY = {"decision": 0, "line": 1, "narrative": 2, "reflection": 3, "embed": 4}


@dataclass(order=True)
class Job:
    """A request waiting for (or running in) a worker."""

    priority: int
    seq: int
    request: Request = field(compare=False)
    token: CancelToken = field(compare=False)
    on_text: OnText | None = field(compare=False, default=None)
    on_done: Done | None = field(compare=False, default=None)
    embed: list[str] | None = field(compare=False, default=None)  # texts: an embedding job
    on_vectors: Callable[[list[list[float]] | None], None] | None = field(compare=False, default=None)


class ModelWorker:
    """A daemon thread running one backend's jobs one at a time."""

    def __init__(self, backend: Backend, warm: bool = False) -> None:
        self.backend = backend
        self._queue: "queue.PriorityQueue[Job]" = queue.PriorityQueue()
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._jobs: dict[Hashable, list[Job]] = {}
        self._closed = False
        self.busy = threading.Event()
        self.ready = threading.Event()  # set once the backend has warmed up (or had nothing to warm)
        self.thread = threading.Thread(target=self._run, name=f"storm-ai-{backend.name}", daemon=True)
        self._warm = warm
        self.thread.start()

    def submit(self, request: Request, token: CancelToken, on_text: OnText | None, on_done: Done) -> Job:
        job = Job(PRIORITY.get(request.kind, 5), next(self._seq), request, token, on_text, on_done)
        return self._put(job)

    def submit_embed(self, texts: list[str], owner: Hashable,
                     on_vectors: Callable[[list[list[float]] | None], None]) -> Job:
        job = Job(PRIORITY["embed"], next(self._seq), Request("embed", [], owner=owner), CancelToken(), embed=texts,
                  on_vectors=on_vectors)
        return self._put(job)

    def _put(self, job: Job) -> Job:
        with self._lock:
            if self._closed:
                raise BackendError(f"the {self.backend.name} worker is closed")
            self._jobs.setdefault(job.request.owner, []).append(job)
        self._queue.put(job)
        return job

    def cancel_owner(self, owner: Hashable, reason: str = "cancelled") -> int:
        """Cancel every job of ``owner`` (queued or running); returns how many."""
        with self._lock:
            jobs = self._jobs.pop(owner, [])
        for job in jobs:
            job.token.cancel(reason)
        return len(jobs)

    def pending(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        if self._warm:
            warm = getattr(self.backend, "warm", None)
            if warm is not None:
                try:
                    warm()
                except Exception as exc:  # noqa: BLE001 - a model that fails to load is reported per request
                    log.warning("%s did not warm up: %s", self.backend.name, exc)
        self.ready.set()
        while True:
            job = self._queue.get()
            if job.request.kind == STOP:
                break
            self.busy.set()
            try:
                self._one(job)
            finally:
                self.busy.clear()
                with self._lock:
                    jobs = self._jobs.get(job.request.owner)
                    if jobs is not None and job in jobs:
                        jobs.remove(job)
                        if not jobs:
                            del self._jobs[job.request.owner]
        self.backend.close()  # in this thread: the thread that owns the model frees it

    def _one(self, job: Job) -> None:
        if job.embed is not None:
            vectors = None
            try:
                if not job.token.cancelled:
                    vectors = self.backend.embed(job.embed, job.token)
            except Exception as exc:  # noqa: BLE001 - an embedding is optional: lexical relevance stands in
                log.warning("%s: embeddings failed (%s); relevance is lexical", self.backend.name, exc)
            if job.on_vectors is not None:
                job.on_vectors(vectors)
            return
        result: Result | None = None
        error: BaseException | None = None
        try:
            job.token.check()
            result = self.backend.generate(job.request, job.on_text, job.token)
        except (BackendError, Cancelled) as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - a backend bug becomes a fallback, not a dead worker
            log.exception("%s raised on a %s request", self.backend.name, job.request.kind)
            error = BackendError(f"{type(exc).__name__}: {exc}")
        if job.on_done is not None:
            try:
                job.on_done(result, error)
            except Exception:  # noqa: BLE001
                log.exception("a %s result callback raised", job.request.kind)

    def close(self, timeout: float = 5.0) -> None:
        """Cancel everything, stop the thread (it frees the model) and wait for it."""
        with self._lock:
            self._closed = True
            owners = list(self._jobs)
        for owner in owners:
            self.cancel_owner(owner, "the worker is closing")
        self._queue.put(Job(10**9, next(self._seq), Request(STOP, []), CancelToken()))
        self.thread.join(timeout)
