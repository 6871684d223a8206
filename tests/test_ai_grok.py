"""The Grok backend against a local server on 127.0.0.1 that speaks xAI's API: the Responses
endpoint with store off, streaming, the model taken from /models, structured output, retries
on 429 (after retry-after) and 5xx, timeouts, malformed and schema-violating answers, and the
chat completions fallback."""
from __future__ import annotations

from typing import Iterator

import pytest

from ai.backends.base import BackendError, CancelToken, Request
from ai.backends.grok import Grok, retry_after_s
from tests.ai_grok_server import MODELS, GrokStandIn

SCHEMA = {"type": "object", "additionalProperties": False, "required": ["say", "action"],
          "properties": {"say": {"type": "string"}, "action": {"type": "string", "enum": ["say"]}}}


@pytest.fixture
def server() -> Iterator[GrokStandIn]:
    with GrokStandIn() as stand_in:
        yield stand_in


def grok(server: GrokStandIn, **kwargs: object) -> Grok:
    backend = Grok(base_url=server.url, api_key="test-key", timeout_s=kwargs.pop("timeout_s", 3.0),  # type: ignore[arg-type]
                   retries=kwargs.pop("retries", 3), **kwargs)  # type: ignore[arg-type]
    backend.sleep = lambda s: __import__("time").sleep(s)
    return backend


def ask(backend: Grok, schema: dict | None = SCHEMA, budget_ms: float | None = None, pieces: list | None = None):
    return backend.generate(Request("decision", [{"role": "user", "content": "hello"}], schema=schema),
                            pieces.append if pieces is not None else None, CancelToken(budget_ms))


def test_success_through_the_responses_endpoint_with_store_off(server: GrokStandIn) -> None:
    backend = grok(server)
    pieces: list[str] = []
    result = ask(backend, pieces=pieces)
    assert result.text == '{"say":"Hello there","action":"say"}' and result.backend == "grok"
    assert len(pieces) > 1 and "".join(pieces) == result.text          # streamed in pieces
    assert result.prompt_tokens == 50 and result.model in MODELS         # the model came from /models
    (_, path, body), = server.posts()
    assert path == "/v1/responses" and body["store"] is False and body["stream"] is True
    assert body["text"]["format"]["type"] == "json_schema" and body["text"]["format"]["schema"] == SCHEMA


def test_a_configured_model_is_used_without_listing(server: GrokStandIn) -> None:
    ask(grok(server, model="grok-from-settings"))
    assert [r[1] for r in server.requests] == ["/v1/responses"] and server.posts()[0][2]["model"] == "grok-from-settings"


def test_429_waits_for_retry_after_then_succeeds(server: GrokStandIn) -> None:
    server.plan = ["429:0.4"]
    result = ask(grok(server, model="m"))
    first, second = server.posts()
    assert result.text.startswith("{") and second[0] - first[0] >= 0.39


def test_429_whose_wait_outlasts_the_budget_fails_at_once(server: GrokStandIn) -> None:
    server.plan = ["429:30"]
    with pytest.raises(BackendError, match="would pass the request's budget"):
        ask(grok(server, model="m"), budget_ms=2000)
    assert len(server.posts()) == 1


def test_5xx_is_retried_with_backoff(server: GrokStandIn) -> None:
    server.plan = ["500", "500"]
    assert ask(grok(server, model="m")).text.startswith("{")
    assert len(server.posts()) == 3


def test_5xx_every_time_gives_up_with_the_reason(server: GrokStandIn) -> None:
    server.default = "500"
    with pytest.raises(BackendError, match="server error 500; gave up after 2 tries"):
        ask(grok(server, model="m", retries=1))


def test_a_server_that_does_not_answer_in_time(server: GrokStandIn) -> None:
    server.default = "slow:3"
    with pytest.raises(BackendError, match="no answer within 0.5 s"):
        ask(grok(server, model="m", timeout_s=0.5, retries=1))


def test_malformed_answer(server: GrokStandIn) -> None:
    server.plan = ["malformed"]
    with pytest.raises(BackendError, match="malformed|not JSON"):
        ask(grok(server, model="m"))


def test_schema_violating_answer(server: GrokStandIn) -> None:
    server.plan = ["violate"]
    with pytest.raises(BackendError, match="does not fit the schema"):
        ask(grok(server, model="m"))


def test_chat_completions_when_there_is_no_responses_endpoint(server: GrokStandIn) -> None:
    server.plan = ["no-responses"]
    backend = grok(server, model="m")
    assert ask(backend).text.startswith("{") and backend.api == "chat"
    assert [p[1] for p in server.posts()] == ["/v1/responses", "/v1/chat/completions"]
    body = server.posts()[1][2]
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA
    ask(backend)
    assert server.posts()[-1][1] == "/v1/chat/completions"               # remembered


def test_no_key_means_not_available() -> None:
    ok, why = Grok(base_url="http://127.0.0.1:9/v1", api_key="").available()
    assert not ok and "XAI_API_KEY" in why


def test_retry_after_forms() -> None:
    assert retry_after_s({"retry-after": "2"}) == 2.0
    assert retry_after_s({"retry-after-ms": "250"}) == 0.25
    assert retry_after_s({}) is None
    assert retry_after_s({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
