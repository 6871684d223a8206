"""What an NPC's brain keeps while the world runs (never saved): its persona and dialogue,
embeddings of its memories, lines heard and not yet answered, the request in flight."""
from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ai.dialogue import Dialogue
from ai.personas import Persona


@dataclass
class Mind:
    """The runtime side of one NpcBrain."""

    entity: int
    persona: Persona | None = None
    problem: str = ""                       # why it has no persona (shown in the editor, logged once)
    dialogue: Dialogue | None = None
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    heard: "collections.deque[tuple[int, str, str]]" = field(default_factory=lambda: collections.deque(maxlen=4))
    perceived: list[tuple[int, str, float]] = field(default_factory=list)
    met: set[int] = field(default_factory=set)
    ticket: Any = None                      # the decision in flight (a cascade Ticket)
    reflecting: Any = None                  # the reflection in flight
    generation: int = 0                     # bumps when a result must be ignored (despawn, reset)
    next_think: float = 0.0
    speech_until: float = 0.0
    words: list[str] = field(default_factory=list)
    embedding: bool = False                 # an embedding job is queued
    newborn: bool = False                   # its persona's memories and items come at its first tick
