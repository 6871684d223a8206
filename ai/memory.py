"""An NPC's memory stream: records in NpcBrain.memories (saved with the world), retrieval by
recency, importance and relevance, and the trigger for reflection.

Scoring follows Generative Agents (Park et al. 2023; their retrieve.py weights ``gw = [0.5, 3,
2]`` for recency, relevance, importance): each of recency (exponential decay since last access),
relevance (cosine of embeddings when the local model gives them, a lexical overlap score
otherwise) and importance (1-10) is scaled to [0, 1] over the candidates, then summed with
weights 0.5, 3 and 2. Decay is per minute of world time, not per
hour: a game's day passes in minutes. Importance is scored by rules here, not by the model (a
model call per memory would cost more than the decision it serves).
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable

import numpy as np

from ai.components import MAX_MEMORIES, MAX_MEMORY_TEXT

W_RECENCY, W_RELEVANCE, W_IMPORTANCE = 0.5, 3.0, 2.0
DECAY_PER_MINUTE = 0.99
_WORD = re.compile(r"[a-z0-9']+")
_STOP = frozenset("a an the and or but to of in on at for with is are was were be been i you he she it we they me my "
                  "your his her its our their this that these those do does did have has had not no so as by from "
                  "what who how why when where can could would will just".split())
_IMPORTANT = {"attack": 4, "attacked": 4, "kill": 5, "steal": 4, "stole": 4, "threat": 3, "help": 2, "gift": 3,
              "give": 2, "gave": 2, "love": 3, "hate": 3, "secret": 3, "quest": 3, "danger": 3, "lost": 2,
              "thank": 1, "thanks": 1, "friend": 2, "name": 1, "promise": 3}
_KIND_BASE = {"observation": 2, "heard": 3, "said": 2, "did": 3, "reflection": 6, "plan": 5, "seed": 5}


def words(text: str) -> list[str]:
    """Lowercase content words of ``text`` with a plural 's' taken off (the lexical fallback's terms)."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in _STOP:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


def importance_of(text: str, kind: str) -> int:
    """A 1-10 importance by rules: the kind's base, plus words that matter, plus questions."""
    score = _KIND_BASE.get(kind, 2)
    terms = set(_WORD.findall(text.lower()))
    score += max((v for k, v in _IMPORTANT.items() if k in terms), default=0)
    if "?" in text:
        score += 1
    return max(1, min(10, score))


def lexical_relevance(query: str, texts: list[str]) -> np.ndarray:
    """An overlap score per text in [0, 1]: shared content words weighted by rarity among ``texts``."""
    terms = set(words(query))
    if not terms or not texts:
        return np.zeros(len(texts))
    bags = [set(words(t)) for t in texts]
    count = len(bags)
    idf = {term: math.log(1.0 + count / (1 + sum(term in bag for bag in bags))) for term in terms}
    total = sum(idf.values()) or 1.0
    return np.array([sum(idf[t] for t in terms if t in bag) / total for bag in bags])


def _scaled(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high - low > 1e-9 else np.zeros_like(values)


class MemoryStream:
    """Operations on one NPC's memory records (the list lives in its NpcBrain). ``vectors`` maps
    a memory's text to its embedding (runtime only: recomputed after a load, never saved)."""

    def __init__(self, records: list[dict[str, Any]], vectors: dict[str, np.ndarray] | None = None) -> None:
        self.records = records
        self.vectors = vectors if vectors is not None else {}

    def add(self, text: str, kind: str, now: float, importance: int | None = None) -> dict[str, Any]:
        """Append a memory (cut to the length a record holds); forgets the least worth keeping
        when the stream is full. Returns the record."""
        text = " ".join(text.split())[:MAX_MEMORY_TEXT] or "(nothing)"
        record = {"text": text, "kind": kind, "importance": importance or importance_of(text, kind),
                  "time": float(now), "last_access": float(now)}
        self.records.append(record)
        if len(self.records) > MAX_MEMORIES:
            self._forget(now)
        return record

    def _forget(self, now: float) -> None:
        def worth(index: int) -> float:
            m = self.records[index]
            return (m["kind"] in ("reflection", "seed")) * 100 + m["importance"] + _recency(now, m["last_access"]) * 3

        drop = min(range(len(self.records)), key=worth)
        gone = self.records.pop(drop)
        self.vectors.pop(gone["text"], None)

    def retrieve(self, query: str, now: float, k: int = 6, query_vector: np.ndarray | None = None,
                 touch: bool = True) -> list[dict[str, Any]]:
        """The ``k`` memories scoring highest for ``query`` now, best first (their last_access
        updated when ``touch``)."""
        if not self.records:
            return []
        recency = np.array([_recency(now, m["last_access"]) for m in self.records])
        importance = np.array([m["importance"] for m in self.records], dtype=float) / 10.0
        relevance = self._relevance(query, query_vector)
        score = W_RECENCY * _scaled(recency) + W_IMPORTANCE * _scaled(importance) + W_RELEVANCE * _scaled(relevance)
        best = np.argsort(-score, kind="stable")[:k]
        out = [self.records[i] for i in best]
        if touch:
            for record in out:
                record["last_access"] = float(now)
        return out

    def _relevance(self, query: str, query_vector: np.ndarray | None) -> np.ndarray:
        texts = [m["text"] for m in self.records]
        if query_vector is not None and all(t in self.vectors for t in texts):
            matrix = np.stack([self.vectors[t] for t in texts])
            return (matrix @ query_vector + 1.0) / 2.0
        return lexical_relevance(query, texts)

    def missing_vectors(self) -> list[str]:
        """Texts of memories with no embedding yet (for the embedding worker)."""
        return [m["text"] for m in self.records if m["text"] not in self.vectors]

    def importance_since_reflection(self) -> int:
        """Summed importance of the memories after the latest reflection."""
        total = 0
        for record in reversed(self.records):
            if record["kind"] == "reflection":
                break
            total += record["importance"]
        return total

    def recent(self, count: int = 12, where: Callable[[dict[str, Any]], bool] | None = None) -> list[dict[str, Any]]:
        picked = [m for m in self.records if where is None or where(m)]
        return picked[-count:]


def _recency(now: float, last_access: float) -> float:
    return DECAY_PER_MINUTE ** (max(0.0, now - last_access) / 60.0)
