"""The persona part of the NPCs panel: a persona file's fields as widgets (lists one item a
line), saved back into its pack through the pack's write path (``ContentRegistry.writable_path``:
folder packs only, refused for a zip or a folder that cannot be written, with the reason shown).

The form edits the file as written (``read_json(..., patched=False)``), not what other packs'
patches make of it, so a save never bakes a patch into the file. An encrypted persona is saved
encrypted again, with the key the AI feature is configured with; a persona the loader refuses
(no consent, a wrong key, a bad field) shows the loader's message and cannot be saved.
"""
from __future__ import annotations

import logging
import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Callable

import dearpygui.dearpygui as dpg

from ai.persona_crypto import is_encrypted
from ai.personas import Persona, parse_persona
from engine.core.errors import StormError

if TYPE_CHECKING:
    from ai.service import AiService
    from engine.packs.content import ContentRegistry

log = logging.getLogger("storm.editor")
ERROR = (255, 110, 90, 255)
DIM = (150, 150, 150, 255)
# field -> (label, lines of the box: 0 = one line)
TEXTS = {"name": ("Name", 0), "summary": ("Summary", 2), "style": ("Speaking style", 2), "dialogue": ("Dialogue file", 0)}
LISTS = {"traits": ("Traits (one a line)", 3), "goals": ("Goals (one a line)", 3),
         "knowledge": ("Knows (one a line)", 3), "relationships": ("People (name: what, one a line)", 2),
         "memories": ("Starting memories ([importance 1-10] text)", 3), "carries": ("Carries (one a line)", 2)}
BOX_CHARS = 20_000   # what is read of a box (a 100 KB paste is cut first); the persona loader checks the rest
_IMPORTANCE = re.compile(r"^\[(\d{1,2})\]\s*(.*)$")


def form_values(persona: Persona) -> dict[str, str]:
    """What each box shows for ``persona``."""
    values = {name: str(getattr(persona, name)) for name in TEXTS}
    for name in ("traits", "goals", "knowledge", "carries"):
        values[name] = "\n".join(getattr(persona, name))
    values["relationships"] = "\n".join(f"{who}: {what}" for who, what in persona.relationships.items())
    values["memories"] = "\n".join(f"[{m['importance']}] {m['text']}" for m in persona.memories)
    return values


def persona_from_form(base: Persona, values: dict[str, str], allowed: list[str]) -> Persona:
    """``base`` with the boxes' values (provenance and consent stay as the file has them)."""
    def lines(name: str) -> list[str]:
        return [line.strip() for line in values.get(name, "").splitlines() if line.strip()]

    relationships = {}
    for line in lines("relationships"):
        who, _, what = line.partition(":")
        relationships[who.strip()] = what.strip()
    memories = []
    for line in lines("memories"):
        found = _IMPORTANCE.match(line)
        memories.append({"text": found.group(2), "importance": int(found.group(1))} if found
                        else {"text": line, "importance": 5})
    data = asdict(base)
    data.update({name: values.get(name, "").strip() for name in TEXTS})
    data.update({name: lines(name) for name in ("traits", "goals", "knowledge", "carries")})
    data.update(relationships=relationships, memories=memories, allowed_actions=list(allowed))
    return Persona(**data)


class PersonaForm:
    """The persona widgets of one NPCs panel. ``service()`` is the open world's AI service (None
    without the AI feature); ``after_save(asset_id)`` tells NPCs playing it to read it again."""

    def __init__(self, content: "ContentRegistry", service: Callable[[], "AiService | None"],
                 after_save: Callable[[str], None]) -> None:
        self.content = content
        self.service = service
        self.after_save = after_save
        self.asset_id = ""
        self.persona: Persona | None = None
        self.encrypted = False
        self.problem = ""
        self.message = ""
        self._boxes: dict[str, int] = {}
        self._verbs: list[str] = []
        self._checks: dict[str, int] = {}
        self._drafts: dict[str, tuple[dict[str, str], list[str]]] = {}   # asset id -> unsaved boxes
        self._group = self._status = self._file = self._about = self._actions = self._fields = 0

    def build(self, parent: int | str) -> None:
        self._group = dpg.add_group(parent=parent)
        self._file = dpg.add_text("", parent=self._group, wrap=0, color=DIM)
        self._status = dpg.add_text("", parent=self._group, wrap=0)
        self._fields = dpg.add_group(parent=self._group)
        for name, (label, rows) in TEXTS.items():
            dpg.add_text(label, parent=self._fields)
            self._boxes[name] = dpg.add_input_text(parent=self._fields, width=-1, multiline=rows > 0,
                                                   height=rows * 18 + 8 if rows else 0, tag=f"storm_persona_{name}")
        for name, (label, rows) in LISTS.items():
            dpg.add_text(label, parent=self._fields)
            self._boxes[name] = dpg.add_input_text(parent=self._fields, width=-1, multiline=True,
                                                   height=rows * 18 + 8, tag=f"storm_persona_{name}")
        dpg.add_text("Allowed actions (the only verbs it may ever do)", parent=self._fields)
        self._actions = dpg.add_group(parent=self._fields, horizontal=False)
        self._about = dpg.add_text("", parent=self._fields, wrap=0, color=DIM)
        with dpg.group(horizontal=True, parent=self._group):
            dpg.add_button(label="Save persona", tag="storm_persona_save", callback=lambda: self.save())
            dpg.add_button(label="Reload from file", tag="storm_persona_reload",
                           callback=lambda: self.show(self.asset_id, drafts=False))

    def text_fields(self) -> list[int]:
        return list(self._boxes.values())

    # -- showing ----------------------------------------------------------------------------------
    def show(self, asset_id: str, verbs: list[str] | None = None, drafts: bool = True) -> None:
        """Read ``asset_id``'s file into the boxes (or show why it cannot be played). Unsaved edits
        of the persona shown before are kept as a draft, shown again when it comes back
        (``drafts`` False: the file as it is, the draft dropped)."""
        if drafts:
            self._keep_draft()
        else:
            self._drafts.pop(asset_id, None)
        self.asset_id, self.persona, self.problem, self.encrypted, self.message = asset_id, None, "", False, ""
        if verbs is not None:
            self._verbs = verbs
        if not asset_id:
            self.problem = "this NPC has no persona (set the persona field of its base:npc.Npc or NpcBrain)"
        else:
            try:
                data = self.content.read_json(asset_id, patched=False)
                self.encrypted = is_encrypted(data)
                service = self.service()
                key = service.persona_key if service is not None else ""
                self.persona = parse_persona(data, self.content.display(asset_id), key or None)
            except StormError as exc:
                self.problem = str(exc)
        self._fill()
        draft = self._drafts.pop(asset_id, None) if self.persona is not None else None
        if draft is not None:
            for name, value in draft[0].items():
                dpg.set_value(self._boxes[name], value)
            for verb, box in self._checks.items():
                dpg.set_value(box, verb in draft[1])
            self.message = "Unsaved edits, kept from before (Reload from file drops them)"
            self._say(self.message, False)

    def _keep_draft(self) -> None:
        if self.persona is None or not self._group:
            return
        values, allowed = self.values(), self.allowed()
        if values != form_values(self.persona) or set(allowed) != set(self.persona.allowed_actions):
            self._drafts[self.asset_id] = (values, allowed)

    def _fill(self) -> None:
        if not self._group:
            return
        path = self.content.display(self.asset_id) if self.asset_id else ""
        patched = [c.pack for c in self._changes() if c.kind == "patch"]
        dpg.set_value(self._file, f"{self.asset_id}\n{path}" + (" (encrypted)" if self.encrypted else "")
                      + (f"\npatched by {', '.join(patched)}: this edits the file, the patches still apply"
                         if patched else ""))
        shown = (f"Refused: {self.problem}" if self.asset_id else self.problem.capitalize()) if self.problem else self.message
        self._say(shown, bool(self.problem))
        dpg.configure_item(self._fields, show=self.persona is not None)
        dpg.configure_item("storm_persona_save", enabled=self.persona is not None)
        if self.persona is None:
            return
        for name, value in form_values(self.persona).items():
            dpg.set_value(self._boxes[name], value)
        self._fill_actions(self.persona.allowed_actions)
        consent, provenance = self.persona.consent, self.persona.provenance
        dpg.set_value(self._about, f"Consent: given by {consent.get('by', '?')}"
                                   + (f" ({consent['scope']})" if consent.get("scope") else "")
                                   + f"\nAuthor: {provenance.get('author', '?')}"
                                   + (f"; {provenance['source']}" if provenance.get("source") else "")
                                   + "\n(consent and provenance are edited in the file itself)")

    def _changes(self) -> tuple[Any, ...]:
        try:
            return self.content.why(self.asset_id).changes if self.asset_id else ()
        except (StormError, ValueError):
            return ()

    def _fill_actions(self, allowed: list[str]) -> None:
        verbs = list(dict.fromkeys(self._verbs + allowed))
        if list(self._checks) != verbs:
            dpg.delete_item(self._actions, children_only=True)
            self._checks = {}
            row = 0
            for index, verb in enumerate(verbs):
                if index % 4 == 0:
                    row = dpg.add_group(horizontal=True, parent=self._actions)
                self._checks[verb] = dpg.add_checkbox(label=verb, parent=row, tag=f"storm_persona_can_{verb}")
        for verb, box in self._checks.items():
            dpg.set_value(box, verb in allowed)

    def _say(self, text: str, bad: bool) -> None:
        dpg.set_value(self._status, text)
        dpg.configure_item(self._status, color=ERROR if bad else (140, 220, 140, 255))

    # -- saving -----------------------------------------------------------------------------------
    def values(self) -> dict[str, str]:
        return {name: str(dpg.get_value(box))[:BOX_CHARS] for name, box in self._boxes.items()}

    def allowed(self) -> list[str]:
        return [verb for verb, box in self._checks.items() if dpg.get_value(box)]

    def save(self) -> str:
        """Write the boxes into the persona's file: '' when saved, else the reason (shown)."""
        service = self.service()
        if self.persona is None or service is None:
            reason = self.problem or "the AI feature is not installed in this editor"
        else:
            reason = ""
            try:
                edited = persona_from_form(self.persona, self.values(), self.allowed())
                if self.encrypted and not service.persona_key:
                    raise StormError("this persona is encrypted and no key is configured (persona_key or "
                                     "STORM_PERSONA_KEY)")
                service.save_persona(self.asset_id, edited, encrypt=self.encrypted)
            except (StormError, OSError, TypeError) as exc:
                reason = str(exc)
        if reason:
            self.message = f"Not saved: {reason}"
            self._say(self.message, True)
            log.warning("persona %s not saved: %s", self.asset_id, reason)
            return reason
        log.info("saved the persona %s (%s)", self.asset_id, self.content.display(self.asset_id))
        self.after_save(self.asset_id)
        self.show(self.asset_id, drafts=False)
        self.message = f"Saved {self.content.display(self.asset_id)}" + (" (encrypted)" if self.encrypted else "")
        self._say(self.message, False)
        return ""
