"""Dialogue files for the scripted backend: barks by situation and a tree of topics a line can
match (``pack:dialogue/<name>.dialogue.json``)::

    {"storm_dialogue": 1,
     "barks": {"greet": ["Morning!"], "idle": ["Bread's nearly done."], "confused": ["Hm?"]},
     "topics": [{"id": "bread", "match": ["bread", "loaf"], "say": ["Fresh today."],
                 "action": {"action": "give"}, "after": ""}]}

A topic with ``after`` is offered only once the conversation has been through that topic.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ai.data_checks import Reader
from ai.memory import words
from engine.core.errors import DataError

if TYPE_CHECKING:
    from engine.packs.content import ContentRegistry

BARK_KINDS = ("greet", "idle", "farewell", "confused", "refuse", "hostile", "afraid")


@dataclass
class Topic:
    """A node of the dialogue tree: words that lead here, lines to say, and a verb to do."""

    id: str
    match: list[str]
    say: list[str]
    action: dict[str, Any] = field(default_factory=dict)
    after: str = ""


@dataclass
class Dialogue:
    """One dialogue file, checked."""

    barks: dict[str, list[str]]
    topics: list[Topic]
    source: str = ""

    def topic_for(self, heard: str, visited: set[str]) -> Topic | None:
        """The topic whose match words appear most in ``heard`` (among those open after ``visited``)."""
        terms = set(words(heard))
        best, best_score = None, 0
        for topic in self.topics:
            if topic.after and topic.after not in visited:
                continue
            score = sum(1 for m in topic.match if set(words(m)) <= terms and words(m))
            if score > best_score:
                best, best_score = topic, score
        return best


def parse_dialogue(data: Any, source: str) -> Dialogue:
    top = Reader(data, source)
    top.known("storm_dialogue", "barks", "topics")
    if top.data.get("storm_dialogue") != 1:
        raise DataError(source, "storm_dialogue", "1 (the dialogue format version)", top.data.get("storm_dialogue"))
    barks_reader = top.child("barks")
    barks_reader.known(*BARK_KINDS)
    barks = {kind: barks_reader.texts(kind, 100, 240) for kind in BARK_KINDS if barks_reader.has(kind)}
    topics, ids = [], set()
    for entry in top.objects("topics", 300):
        entry.known("id", "match", "say", "action", "after")
        topic_id = entry.text("id", max_length=60, empty=False)
        if topic_id in ids:
            raise DataError(source, entry.where("id"), "a topic id used once", topic_id)
        ids.add(topic_id)
        action = entry.mapping("action", 8)
        if action and not isinstance(action.get("action"), str):
            raise DataError(source, entry.where("action.action"), "the name of an action", action.get("action"))
        say = entry.texts("say", 50, 240)
        if not say:
            raise DataError(source, entry.where("say"), "at least one line")
        topics.append(Topic(topic_id, entry.texts("match", 50, 60), say, dict(action), entry.text("after", "", 60)))
    for index, topic in enumerate(topics):
        if topic.after and topic.after not in ids:
            raise DataError(source, f"topics[{index}].after", f"the id of another topic ({', '.join(sorted(ids))})",
                            topic.after)
    return Dialogue(barks, topics, source)


def load_dialogue(content: "ContentRegistry", asset_id: str) -> Dialogue:
    return parse_dialogue(content.read_json(asset_id), content.display(asset_id))
