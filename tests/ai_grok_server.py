"""A local stand-in for xAI's API on 127.0.0.1 (tests only): ``/v1/models``, ``/v1/responses``
and ``/v1/chat/completions``, streamed as server-sent events in the OpenAI chunk format.

Each request takes the next step of ``plan`` (then ``default``): ``ok``, ``429:<seconds>``
(with retry-after), ``500``, ``slow:<seconds>`` (answers after a delay), ``malformed`` (a body
that is not JSON), ``violate`` (valid JSON that breaks the requested schema), ``no-responses``
(404 for /responses). ``answer`` is the text an ``ok`` step streams, in a few pieces.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

MODELS = ["grok-test-mini", "grok-test-large"]


class GrokStandIn:
    """Start with ``with GrokStandIn() as server:``; ``server.url`` is the base URL (…/v1)."""

    def __init__(self, answer: str = '{"say":"Hello there","action":"say"}') -> None:
        self.answer: str | Callable[[dict[str, Any]], str] = answer
        self.plan: list[str] = []
        self.default = "ok"
        self.requests: list[tuple[float, str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                stand_in._record(self.path, {})
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": m, "object": "model", "created": 0,
                                                                 "owned_by": "xai"} for m in MODELS]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                step = stand_in._record(self.path, body)
                if step == "no-responses" and self.path.endswith("/responses"):
                    self._json(404, {"error": {"message": "no such endpoint"}})
                    return
                if step.startswith("429"):
                    wait = step.partition(":")[2] or "1"
                    self._json(429, {"error": {"message": "rate limited"}}, {"retry-after": wait})
                    return
                if step == "500":
                    self._json(500, {"error": {"message": "boom"}})
                    return
                if step.startswith("slow"):
                    time.sleep(float(step.partition(":")[2] or "5"))
                if step == "malformed":
                    self._raw(200, b"{this is not json", "application/json")
                    return
                text = stand_in.text_for(body)
                if step == "violate":
                    text = json.dumps({"unexpected": True})
                if self.path.endswith("/responses"):
                    self._stream(_responses_events(text, body.get("model", "")))
                else:
                    self._stream(_chat_events(text, body.get("model", "")))

            def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
                self._raw(status, json.dumps(data).encode(), "application/json", headers)

            def _raw(self, status: int, data: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, events: list[tuple[str, dict[str, Any]]]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.end_headers()
                try:
                    for name, data in events:
                        prefix = f"event: {name}\n" if name else ""
                        self.wfile.write(f"{prefix}data: {json.dumps(data)}\n\n".encode())
                        self.wfile.flush()
                    if not events or not events[0][0]:
                        self.wfile.write(b"data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def text_for(self, body: dict[str, Any]) -> str:
        return self.answer(body) if callable(self.answer) else self.answer

    def _record(self, path: str, body: dict[str, Any]) -> str:
        with self._lock:
            self.requests.append((time.monotonic(), path, body))
            return self.plan.pop(0) if self.plan else self.default

    def posts(self) -> list[tuple[float, str, dict[str, Any]]]:
        return [r for r in self.requests if not r[1].rstrip("/").endswith("/models")]

    def __enter__(self) -> "GrokStandIn":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pieces(text: str) -> list[str]:
    size = max(1, len(text) // 4)
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def _responses_events(text: str, model: str) -> list[tuple[str, dict[str, Any]]]:
    base = {"id": "resp_1", "object": "response", "created_at": 0, "model": model, "status": "in_progress",
            "output": [], "parallel_tool_calls": False, "tool_choice": "auto", "tools": []}
    events: list[tuple[str, dict[str, Any]]] = [("response.created", {"type": "response.created", "sequence_number": 0,
                                                                      "response": base})]
    for index, piece in enumerate(_pieces(text)):
        events.append(("response.output_text.delta", {"type": "response.output_text.delta", "item_id": "msg_1",
                                                      "output_index": 0, "content_index": 0, "delta": piece,
                                                      "sequence_number": index + 1, "logprobs": []}))
    done = dict(base, status="completed", output=[{
        "type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}]}],
        usage={"input_tokens": 50, "output_tokens": len(text.split()), "total_tokens": 50 + len(text.split()),
               "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}})
    events.append(("response.completed", {"type": "response.completed", "sequence_number": len(events),
                                          "response": done}))
    return events


def _chat_events(text: str, model: str) -> list[tuple[str, dict[str, Any]]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": "chat_1", "object": "chat.completion.chunk", "created": 0, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    events = [("", chunk({"role": "assistant", "content": ""}))]
    events += [("", chunk({"content": piece})) for piece in _pieces(text)]
    events.append(("", chunk({}, "stop")))
    events.append(("", {"id": "chat_1", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [],
                        "usage": {"prompt_tokens": 50, "completion_tokens": len(text.split()), "total_tokens": 60}}))
    return events
