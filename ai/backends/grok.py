"""Grok: xAI's OpenAI-compatible HTTP API through the ``openai`` client with ``base_url``.

The Responses endpoint is used first (xAI recommends it; chat completions are marked deprecated),
with ``store=False`` so xAI keeps no conversation; when a server has no Responses endpoint (404)
this backend switches to chat completions for the rest of its life. Model names come from
settings or the ``/models`` listing, never from this file.

Retries are this module's, not the client's (``max_retries=0``): they must know the request's
time budget, so a 429 whose ``retry-after`` outlasts the budget fails at once and the cascade
moves on instead of sleeping through it. 429 waits ``retry-after`` (or ``retry-after-ms``);
5xx, timeouts and dropped connections back off exponentially with jitter.
"""
from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from typing import Any

from ai.backends.base import (
    Backend,
    BackendError,
    BackendUnavailable,
    Cancelled,
    CancelToken,
    OnText,
    OverBudget,
    Request,
    Result,
)

log = logging.getLogger("storm.ai.grok")
MAX_WAIT_S = 60.0


def retry_after_s(headers: Any) -> float | None:
    """Seconds a 429 asks to wait: ``retry-after-ms``, ``retry-after`` in seconds or as an HTTP date."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed is not None else None


class Grok(Backend):
    """xAI's Grok (or any server speaking the same API): streaming text and JSON-schema answers."""

    name = "grok"

    def __init__(self, *, base_url: str, api_key: str, model: str = "", prefer: tuple[str, ...] = ("grok",),
                 timeout_s: float = 20.0, retries: int = 3, api: str = "responses") -> None:
        self.base_url, self.api_key, self.model = base_url, api_key, model
        self.prefer, self.timeout_s, self.retries = prefer, timeout_s, retries
        self.api = api
        self._client: Any = None
        self._models: list[str] | None = None
        self.sleep = time.sleep  # tests may watch the waits

    def available(self) -> tuple[bool, str]:
        if not self.api_key:
            return False, "no XAI_API_KEY (or settings grok_key)"
        try:
            import openai  # noqa: F401
        except ImportError:
            return False, "the openai package is not installed"
        return True, ""

    @property
    def client(self) -> Any:
        if self._client is None:
            ok, why = self.available()
            if not ok:
                raise BackendUnavailable(why)
            import openai

            self._client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key, timeout=self.timeout_s,
                                         max_retries=0)
        return self._client

    # -- models ---------------------------------------------------------------------------------
    def models(self, token: CancelToken | None = None) -> list[str]:
        """The model ids the server lists (``/models``), fetched once."""
        if self._models is None:
            page = self._call(lambda: self.client.models.list(), token or CancelToken())
            self._models = sorted(getattr(m, "id", "") for m in page.data if getattr(m, "id", ""))
        return self._models

    def pick_model(self, token: CancelToken | None = None) -> str:
        """The configured model, else the first listed model whose id starts with a preferred prefix."""
        if self.model:
            return self.model
        listed = self.models(token)
        for prefix in self.prefer:
            for model_id in listed:
                if model_id.startswith(prefix):
                    self.model = model_id
                    return model_id
        if listed:
            self.model = listed[0]
            return self.model
        raise BackendError("the server lists no models")

    # -- generation -----------------------------------------------------------------------------
    def generate(self, request: Request, on_text: OnText | None, token: CancelToken) -> Result:
        model = self.pick_model(token)
        started = time.perf_counter()
        state: dict[str, Any] = {"first": 0.0, "pieces": [], "usage": (0, 0)}

        def emit(piece: str) -> None:
            if not state["first"]:
                state["first"] = time.perf_counter()
            state["pieces"].append(piece)
            if on_text is not None:
                on_text(piece)

        def attempt() -> None:
            state["pieces"] = []
            if self.api == "responses":
                try:
                    self._stream_responses(model, request, emit, token, state)
                    return
                except _NoEndpoint:
                    log.warning("%s has no Responses endpoint; using chat completions from now on", self.base_url)
                    self.api = "chat"
            self._stream_chat(model, request, emit, token, state)

        self._call(attempt, token)
        text = "".join(state["pieces"])
        if not text.strip():
            raise BackendError("an empty or malformed answer (no text came back)")
        if request.schema is not None:
            check_schema(text, request.schema)
        ended = time.perf_counter()
        prompt_tokens, completion_tokens = state["usage"]
        return Result(text, self.name, model, prompt_tokens=prompt_tokens,
                      completion_tokens=completion_tokens or len(state["pieces"]),
                      latency_ms=(ended - started) * 1000.0,
                      first_token_ms=((state["first"] or ended) - started) * 1000.0)

    def _stream_responses(self, model: str, request: Request, emit: OnText, token: CancelToken,
                          state: dict[str, Any]) -> None:
        import openai

        kwargs: dict[str, Any] = {"model": model, "input": request.messages, "store": False, "stream": True,
                                  "max_output_tokens": request.max_tokens, "temperature": request.temperature}
        if request.schema is not None:
            kwargs["text"] = {"format": {"type": "json_schema", "name": "answer", "schema": request.schema,
                                         "strict": True}}
        try:
            stream = self._client_within(token).responses.create(**kwargs)
        except openai.NotFoundError:
            raise _NoEndpoint() from None
        with stream:
            for event in stream:
                token.check()
                kind = getattr(event, "type", "")
                if kind == "response.output_text.delta":
                    emit(event.delta)
                elif kind == "response.completed":
                    usage = getattr(event.response, "usage", None)
                    if usage is not None:
                        state["usage"] = (usage.input_tokens or 0, usage.output_tokens or 0)
                elif kind in ("response.failed", "error"):
                    raise BackendError(f"the server reported a failure ({_error_text(event)})")

    def _stream_chat(self, model: str, request: Request, emit: OnText, token: CancelToken,
                     state: dict[str, Any]) -> None:
        kwargs: dict[str, Any] = {"model": model, "messages": request.messages, "stream": True,
                                  "max_tokens": request.max_tokens, "temperature": request.temperature,
                                  "stream_options": {"include_usage": True}}
        if request.schema is not None:
            kwargs["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": "answer", "schema": request.schema, "strict": True}}
        if request.stop:
            kwargs["stop"] = request.stop
        stream = self._client_within(token).chat.completions.create(**kwargs)
        with stream:
            for chunk in stream:
                token.check()
                if chunk.choices:
                    piece = chunk.choices[0].delta.content
                    if piece:
                        emit(piece)
                if getattr(chunk, "usage", None) is not None:
                    state["usage"] = (chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)

    def _client_within(self, token: CancelToken) -> Any:
        """The client with a timeout that ends no later than the request's budget."""
        remaining = token.remaining_s()
        if remaining is None or remaining >= self.timeout_s:
            return self.client
        return self.client.with_options(timeout=max(0.05, remaining))

    # -- retries --------------------------------------------------------------------------------
    def _call(self, fn: Any, token: CancelToken) -> Any:
        """Run ``fn`` with retries on 429 (after retry-after) and 5xx/timeouts (backoff)."""
        import openai

        for attempt in range(self.retries + 1):
            token.check()
            try:
                return fn()
            except (Cancelled, OverBudget, BackendError):
                raise
            except openai.RateLimitError as exc:
                wait = retry_after_s(exc.response.headers if exc.response is not None else None)
                reason = f"rate limited (429, retry-after {wait if wait is not None else '-'} s)"
                wait = _backoff(attempt) if wait is None else wait
            except openai.APITimeoutError:
                reason, wait = f"no answer within {self.timeout_s:g} s", _backoff(attempt)
            except openai.APIConnectionError as exc:
                reason, wait = f"connection failed ({exc})", _backoff(attempt)
            except openai.InternalServerError as exc:
                reason, wait = f"server error {exc.status_code}", _backoff(attempt)
            except openai.APIStatusError as exc:
                raise BackendError(f"refused with HTTP {exc.status_code} ({_short(exc.message)})") from None
            except (json.JSONDecodeError, ValueError, TypeError, AttributeError, KeyError) as exc:
                raise BackendError(f"malformed answer ({type(exc).__name__}: {_short(str(exc))})") from None
            except openai.APIError as exc:
                raise BackendError(f"malformed answer ({_short(str(exc))})") from None
            remaining = token.remaining_s()
            if attempt >= self.retries:
                raise BackendError(f"{reason}; gave up after {attempt + 1} tries")
            if wait > MAX_WAIT_S or (remaining is not None and wait >= remaining):
                raise BackendError(f"{reason}; waiting {wait:.1f} s would pass the request's budget")
            log.info("grok: %s; retrying in %.2f s (try %d of %d)", reason, wait, attempt + 2, self.retries + 1)
            self.sleep(wait)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class _NoEndpoint(Exception):
    """The server answered 404 for /responses."""


def _backoff(attempt: int) -> float:
    return min(8.0, 0.25 * 2 ** attempt) * (0.75 + 0.5 * random.random())


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text[:160] + ("..." if len(text) > 160 else "")


def _error_text(event: Any) -> str:
    error = getattr(event, "error", None) or getattr(getattr(event, "response", None), "error", None)
    return _short(str(getattr(error, "message", error) or "no detail"))


def check_schema(text: str, schema: dict[str, Any]) -> Any:
    """The answer parsed as JSON and checked against ``schema``; BackendError saying what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BackendError(f"the answer is not JSON ({exc.msg} at character {exc.pos})") from None
    import jsonschema

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise BackendError(f"the answer does not fit the schema at {where}: {_short(error.message)}")
    return data
