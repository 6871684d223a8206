"""The memory stream: retrieval by recency, importance and relevance (lexical here; embeddings
are covered with the real model), forgetting at the cap, and the sum that starts a reflection."""
from __future__ import annotations

import numpy as np

from ai.components import MAX_MEMORIES, MemoryRecords
from ai.memory import MemoryStream, importance_of, lexical_relevance


def stream() -> MemoryStream:
    s = MemoryStream([])
    s.add("The weather was grey.", "observation", 0.0, 2)
    s.add("The player asked about bread.", "heard", 10.0, 3)
    s.add("Someone attacked the miller!", "heard", 20.0, 9)
    s.add("I sold two loaves.", "did", 3000.0, 2)
    return s


def test_relevance_finds_the_memory_about_the_question() -> None:
    best = stream().retrieve("do you have bread", 3000.0, k=1)
    assert best[0]["text"] == "The player asked about bread."


def test_importance_lifts_a_memory_with_nothing_in_common() -> None:
    best = stream().retrieve("zzz", 3000.0, k=2)
    assert "attacked" in best[0]["text"] or "attacked" in best[1]["text"]


def test_recency_decides_between_equal_memories() -> None:
    s = MemoryStream([])
    s.add("A cart went by.", "observation", 0.0, 3)
    s.add("A cart went by again.", "observation", 5000.0, 3)
    assert s.retrieve("nothing", 5000.0, k=1)[0]["time"] == 5000.0


def test_retrieval_touches_what_it_returns() -> None:
    s = stream()
    s.retrieve("bread", 4000.0, k=1)
    assert s.records[1]["last_access"] == 4000.0


def test_embeddings_are_used_when_every_memory_has_one() -> None:
    s = stream()
    for index, record in enumerate(s.records):
        vector = np.zeros(4, dtype=np.float32)
        vector[index] = 1.0
        s.vectors[record["text"]] = vector
    query = np.array([1.0, 0, 0, 0], dtype=np.float32)
    assert s.retrieve("bread", 3000.0, k=1, query_vector=query)[0]["text"] == "The weather was grey."


def test_the_stream_forgets_the_least_worth_keeping_at_its_cap() -> None:
    s = MemoryStream([])
    s.add("I am Mira the baker.", "seed", 0.0, 5)
    for i in range(MAX_MEMORIES + 20):
        s.add(f"small thing {i}", "observation", float(i), 1)
    assert len(s.records) == MAX_MEMORIES and s.records[0]["text"] == "I am Mira the baker."


def test_importance_since_the_last_reflection_adds_up() -> None:
    s = stream()
    assert s.importance_since_reflection() == 16
    s.add("Things are tense.", "reflection", 3001.0, 7)
    s.add("More bread sold.", "did", 3002.0, 2)
    assert s.importance_since_reflection() == 2


def test_rules_score_importance() -> None:
    assert importance_of("He attacked me!", "heard") > importance_of("Nice weather.", "heard")
    assert lexical_relevance("bread please", ["fresh bread", "grey sky"]).tolist()[1] == 0.0


def test_saved_memories_are_checked_like_any_field() -> None:
    kind = MemoryRecords()
    good = [{"text": "x", "kind": "heard", "importance": 4, "time": 1, "last_access": 2}]
    assert kind.validate(good)[0]["importance"] == 4
    for bad in ([{"text": ""}], [{"text": "x", "kind": "dream"}], [{"text": "x", "importance": 11}],
                [{"text": "x", "eval": "1"}], "memories", [{"text": "x", "time": float("nan")}]):
        try:
            kind.validate(bad)
        except Exception as exc:  # noqa: BLE001
            assert type(exc).__name__ == "FieldError"
        else:
            raise AssertionError(f"accepted {bad!r}")
