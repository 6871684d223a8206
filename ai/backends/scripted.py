"""Scripted: answers without a model, from dialogue files in packs: barks for lines, topic
matching for decisions (in the same JSON decision format a model writes, so it goes through the
same checks), and a pack-provided or requester-provided answer for narrative requests.

Lines rotate: an NPC does not repeat a line until it has said the others of that kind.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any

from ai.backends.base import Backend, BackendError, CancelToken, OnText, Request, Result
from ai.dialogue import Dialogue

SPEAKER_ARGS = ("to", "target")  # when answering someone, these arguments mean them


class Scripted(Backend):
    """The backend that is always there. ``request.context`` carries what it needs: ``dialogue``
    (a Dialogue), ``heard`` (the line it answers), ``speaker``, ``format`` (the names of verbs
    allowed now, with ``targets``: verb -> argument -> entity ids), ``bark`` (a bark kind) and
    ``fallback`` (a ready answer, for narrative)."""

    name = "scripted"

    def __init__(self) -> None:
        self._said: dict[Any, dict[str, int]] = {}   # owner -> line key -> times used
        self._visited: dict[Any, set[str]] = {}
        self._lock = threading.RLock()  # its worker answers requests; the tick asks for fallback lines

    def generate(self, request: Request, on_text: OnText | None, token: CancelToken) -> Result:
        with self._lock:
            return self._generate(request, on_text, token)

    def _generate(self, request: Request, on_text: OnText | None, token: CancelToken) -> Result:
        started = time.perf_counter()
        token.check()
        context = request.context
        if request.kind == "decision":
            text = self._decide(request.owner, context)
        elif "fallback" in context:
            text = context["fallback"] if isinstance(context["fallback"], str) else json.dumps(context["fallback"])
        else:
            dialogue = context.get("dialogue")
            text = self.line(request.owner, dialogue, context.get("bark", "idle")) if dialogue is not None else ""
            if not text:
                raise BackendError(f"no scripted answer for a {request.kind} request")
        if on_text is not None:
            on_text(text)
        elapsed = (time.perf_counter() - started) * 1000.0
        return Result(text, self.name, "scripted", completion_tokens=len(text.split()), latency_ms=elapsed,
                      first_token_ms=elapsed)

    def line(self, owner: Any, dialogue: Dialogue | None, kind: str) -> str:
        """The next bark of ``kind`` (falling back to idle), rotated; '' when the file has none."""
        if dialogue is None:
            return ""
        with self._lock:
            return self._pick(owner, f"bark:{kind}", dialogue.barks.get(kind) or dialogue.barks.get("idle") or [])

    def topic_line(self, owner: Any, dialogue: Dialogue | None, heard: str) -> str:
        """A line of the topic ``heard`` is about ('' when none matches)."""
        with self._lock:
            topic = dialogue.topic_for(heard, self._visited.get(owner, set())) if dialogue and heard else None
            return self._pick(owner, f"topic:{topic.id}", topic.say) if topic is not None else ""

    def _pick(self, owner: Any, key: str, lines: list[str]) -> str:
        if not lines:
            return ""
        used = self._said.setdefault(owner, {})
        index = used.get(key, 0)
        used[key] = index + 1
        return lines[index % len(lines)]

    def _decide(self, owner: Any, context: dict[str, Any]) -> str:
        dialogue: Dialogue | None = context.get("dialogue")
        allowed: list[str] = list(context.get("format", ["say"]))
        targets: dict[str, dict[str, list[int]]] = context.get("targets", {})
        speaker = context.get("speaker", 0)
        heard = context.get("heard", "")
        say, decision = "", {"action": "say" if "say" in allowed else "wait"}
        if decision["action"] == "wait":
            decision["seconds"] = 2
        topic = dialogue.topic_for(heard, self._visited.setdefault(owner, set())) if dialogue and heard else None
        if topic is not None:
            self._visited[owner].add(topic.id)
            say = self._pick(owner, f"topic:{topic.id}", topic.say)
            wanted = dict(topic.action)
            name = wanted.pop("action", "")
            if name in allowed:
                wanted = {**context.get("defaults", {}).get(name, {}), **wanted}
                filled = self._fill(name, wanted, targets.get(name, {}), speaker)
                if filled is not None:
                    decision = {"action": name, **filled}
        elif dialogue is not None:
            say = self.line(owner, dialogue, "greet" if context.get("first_meeting") else
                            ("confused" if heard else "idle"))
        return json.dumps({"say": say, **decision}, ensure_ascii=False)

    @staticmethod
    def _fill(name: str, given: dict[str, Any], targets: dict[str, list[int]], speaker: int) -> dict[str, Any] | None:
        """Arguments for verb ``name``: those the topic gives, entity ones picked from the targets
        (the speaker when it is one of them); None when one cannot be filled."""
        args = dict(given)
        for arg, ids in targets.items():
            if arg in args and args[arg] in ids:
                continue
            if arg in SPEAKER_ARGS and speaker:
                if speaker not in ids:
                    return None  # the verb would be aimed at someone else: just talk
                args[arg] = speaker
            elif ids:
                args[arg] = ids[0]
            else:
                return None
        return args
