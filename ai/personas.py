"""Personas: personality snapshots as pack files (``pack:personas/<name>.persona.json``), checked
and refused without consent; optionally encrypted at rest (``persona_crypto``); an NPC's current
state exported back to a snapshot.

A persona portrays someone, perhaps a real person: the file records where it came from
(``provenance``) and that its subject (or its author, for an invented character) agreed to it
being played (``consent.given``). Without that it is refused, naming the file and field.
"""
from __future__ import annotations

import datetime
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ai.data_checks import Reader
from ai.pack_files import list_assets
from ai.persona_crypto import decrypt_persona, encrypt_persona, is_encrypted
from engine.core.errors import DataError, StormError
from engine.packs.json_text import atomic_write

if TYPE_CHECKING:
    from engine.packs.content import ContentRegistry

FORMAT = "storm_persona"
FOLDER, SUFFIXES = "personas", (".persona.json", ".persona.enc.json")
KEYS = ("storm_persona", "name", "summary", "traits", "goals", "style", "knowledge", "relationships",
        "memories", "allowed_actions", "carries", "dialogue", "provenance", "consent")


@dataclass
class Persona:
    """One personality snapshot, checked. ``memories`` are the starting ones: (text, importance)."""

    name: str
    summary: str = ""
    traits: list[str] = field(default_factory=list)
    goals: list[str] = field(default_factory=list)
    style: str = ""
    knowledge: list[str] = field(default_factory=list)
    relationships: dict[str, str] = field(default_factory=dict)
    memories: list[dict[str, Any]] = field(default_factory=list)
    allowed_actions: list[str] = field(default_factory=lambda: ["say", "emote", "look_at", "wait"])
    carries: list[str] = field(default_factory=list)   # items it starts with (labels), for give
    dialogue: str = ""
    provenance: dict[str, str] = field(default_factory=dict)
    consent: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        data = {FORMAT: 1, **asdict(self)}
        data.pop("source")
        return data


def parse_persona(data: Any, source: str, passphrase: str | None = None) -> Persona:
    """A Persona from file data (decrypted first when it is an envelope). DataError for anything
    wrong, consent first among them."""
    if is_encrypted(data):
        data = decrypt_persona(data, passphrase, source)
    top = Reader(data, source)
    top.known(*KEYS)
    if top.data.get(FORMAT) != 1:
        raise DataError(source, FORMAT, "1 (the persona format version)", top.data.get(FORMAT))
    consent = top.child("consent")
    consent.known("given", "by", "scope", "date", "note")
    if consent.data.get("given") is not True:
        raise DataError(source, "consent.given",
                        "true: a persona is played only with the consent of the person it portrays (or, for an "
                        "invented character, its author); record who agreed in consent.by", consent.data.get("given"))
    consent.text("by", max_length=200, empty=False)
    provenance = top.child("provenance")
    provenance.known("author", "source", "created", "license", "exported_from", "note")
    provenance.text("author", max_length=200, empty=False)
    relationships = top.mapping("relationships", 100)
    for who, what in relationships.items():
        if not isinstance(what, str) or len(what) > 400 or len(who) > 80:
            raise DataError(source, f"relationships.{who}", "a string of at most 400 characters", what)
    memories = []
    for item in top.objects("memories", 200):
        item.known("text", "importance")
        memories.append({"text": item.text("text", max_length=400, empty=False),
                         "importance": int(item.number("importance", 5, 1, 10))})
    allowed = top.texts("allowed_actions", 40, 40)
    if not allowed:
        raise DataError(source, "allowed_actions", "at least one action (say, emote, wait, ...)")
    dialogue = top.text("dialogue", "", 300)
    return Persona(name=top.text("name", max_length=80, empty=False), summary=top.text("summary", "", 400),
                   traits=top.texts("traits", 30, 80), goals=top.texts("goals", 30, 200),
                   style=top.text("style", "", 400), knowledge=top.texts("knowledge", 100, 400),
                   relationships=dict(relationships), memories=memories, allowed_actions=allowed,
                   carries=top.texts("carries", 10, 80),
                   dialogue=dialogue, provenance={k: str(v) for k, v in provenance.data.items()},
                   consent=dict(consent.data), source=source)


def load_persona(content: "ContentRegistry", asset_id: str, passphrase: str | None = None) -> Persona:
    """The persona behind an asset id, read through the content registry."""
    return parse_persona(content.read_json(asset_id), content.display(asset_id), passphrase)


def persona_problem(content: "ContentRegistry", asset_id: str, passphrase: str | None = None) -> str | None:
    """Why a persona file cannot be played (None when it can): the asset kind ``persona``'s check
    once the AI feature is installed (``engine.packs.asset_kinds``), so validate names the file."""
    try:
        load_persona(content, asset_id, passphrase)
    except StormError as exc:
        return str(exc)
    return None


def list_personas(content: "ContentRegistry") -> list[str]:
    """Asset ids of every persona file in the enabled packs (the editor's persona list)."""
    return [a for suffix in SUFFIXES for a in list_assets(content, FOLDER, suffix)]


def save_persona(persona: Persona, path: Path | str, passphrase: str | None = None) -> Path:
    """Write a persona file atomically (encrypted when a passphrase is given); it is checked first,
    so a file this writes always loads."""
    data = persona.to_json()
    parse_persona(data, str(path))
    if passphrase:
        data = encrypt_persona(data, passphrase)
    atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return Path(path)


def export_persona(persona: Persona, memories: list[dict[str, Any]], plan: str = "", where: str = "",
                   keep: int = 60) -> Persona:
    """A new snapshot of an NPC as it is now: its persona with the most important of its current
    memories (reflections first) as starting memories, its plan as its first goal, and provenance
    saying where and when it was taken. Consent carries over unchanged."""
    ranked = sorted(memories, key=lambda m: (m.get("kind") != "reflection", -m.get("importance", 1), -m.get("time", 0)))
    seen: set[str] = set()
    kept = []
    for memory in ranked:
        text = memory["text"][:400]
        if text not in seen:
            seen.add(text)
            kept.append({"text": text, "importance": int(memory.get("importance", 5))})
        if len(kept) >= keep:
            break
    goals = ([plan[:200]] if plan else []) + [g for g in persona.goals if g != plan][:29]
    provenance = dict(persona.provenance)
    provenance["exported_from"] = (f"{where} at {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}"
                                   [:200])
    return Persona(**{**asdict(persona), "memories": kept, "goals": goals, "provenance": provenance,
                      "source": ""})
