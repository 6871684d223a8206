"""Marks an entity as an NPC in a world file: which persona it plays. Any runtime loads such a
world; with the AI feature installed (``ai.install.install_ai``, as ``storm play`` does) the
entity gets an NpcBrain and thinks, talks and acts. See docs/npcs.md."""
from __future__ import annotations

from engine.api import AssetRef, Behaviour, Field


class Npc(Behaviour):
    """A character that the AI feature brings to life; without it, it stands still. ``storm
    validate`` checks its persona file with the persona loader (asset kind ``persona``)."""

    persona = Field(AssetRef("persona", allow_empty=True), "",
                    doc="its persona file, like base:personas/mira.persona.json")
