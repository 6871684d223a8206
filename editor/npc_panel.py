"""The NPCs panel: the open world's NPCs; for the chosen one (it follows the editor's selection)
its persona, editable and saved into its pack (``persona_form.py``); a talk box; its memories
(most recent first) and plan; the last prompts and outputs with backend, model, token counts,
latency and time to the first token, and the fallbacks with their reasons.

Talking happens in Play only. What an NPC hears and answers goes into its memories, which are
world state saved with the world; in Play that state belongs to the running copy and Stop puts
it back, like everything else Play changes. In edit mode the box says so and offers Play. The
answer never blocks the editor: ``AiService.talk`` returns at once, the words stream in through
the NpcSystem's speech listeners at tick starts, and the panel shows them as they come. A line is
cut and cleaned by the chat box's ``clean_line`` before the NPC hears it.
"""
from __future__ import annotations

import collections
import time
from typing import TYPE_CHECKING, Any, Callable

import dearpygui.dearpygui as dpg

from ai.actions.registry import ActionRegistry
from ai.chat_box import clean_line, local_player
from editor.persona_form import DIM, ERROR, PersonaForm

if TYPE_CHECKING:
    from ai.npc_system import NpcSystem
    from ai.service import AiService, PromptRecord
    from editor.session import Session
    from engine.core.world import World

MARKER = "base:npc.Npc"          # the behaviour that makes an entity an NPC in a world file
MEMORIES_SHOWN = 30
PROMPTS_SHOWN = 8
LOG_LINES = 30
DETAILS_CHARS = 8000
PLAY_REFRESH_S = 0.25
OUTPUT = (200, 200, 150, 255)


def npc_rows(world: "World") -> list[tuple[int, str, str]]:
    """(entity, name, persona asset id) of every NPC: entities with an NpcBrain or the base:npc.Npc
    behaviour (a world only edited, or opened without the AI feature, has only the latter)."""
    found: dict[int, str] = {}
    for type_name in (MARKER, "NpcBrain"):
        cls = world.registry.get(type_name)
        if cls is not None:
            for eid, component in world.query(cls):
                found[eid] = getattr(component, "persona", "") or found.get(eid, "")
    return [(eid, world.name_of(eid), found[eid]) for eid in sorted(found)]


def record_title(record: "PromptRecord") -> str:
    """A prompt record's title: when, kind, backend and model."""
    return (f"{time.strftime('%H:%M:%S', time.localtime(record.time))} {record.kind}: "
            f"{record.backend or 'no backend'} ({record.model or '-'})")


def record_figures(record: "PromptRecord") -> str:
    """Tokens in and out, latency, time to the first token, and what became of the answer."""
    return (f"{record.prompt_tokens} prompt + {record.completion_tokens} completion tokens, "
            f"{record.latency_ms:.0f} ms, first token {record.first_token_ms:.0f} ms"
            + (f"; {record.outcome}" if record.outcome else ""))


def record_details(record: "PromptRecord") -> str:
    """Everything of one record: output, fallbacks, then the messages sent (cut to a bound)."""
    parts = [record_title(record), record_figures(record), "", "output:", record.output or "(none)"]
    if record.fallbacks:
        parts += ["", "fallbacks:"] + [f"  {f}" for f in record.fallbacks]
    for message in record.messages:
        parts += ["", f"{message.get('role', '?')}:", message.get("content", "")]
    text = "\n".join(parts)
    return text if len(text) <= DETAILS_CHARS else text[:DETAILS_CHARS] + "\n... (cut)"


class NpcPanel:
    """The widgets of the NPCs panel (see the module doc); ``play()`` starts Play (the editor's action)."""

    def __init__(self, session: "Session", play: Callable[[], None]) -> None:
        self.session = session
        self.play = play
        self.form = PersonaForm(session.runtime.content, self.service, self._persona_saved)
        self.npc = 0
        self.rows: list[tuple[int, str, str]] = []
        self.logs: dict[int, "collections.deque[str]"] = {}
        self.streaming: dict[int, str] = {}
        self.window: int | str = 0
        self._system: "NpcSystem | None" = None
        self._rows_key: tuple = ()
        self._key: tuple = ()
        self._asked = 0.0
        self._changed = True
        self._picked = -1          # the prompt record whose details show (-1: the newest)
        self._memory_rows: list[tuple[int, ...]] = []
        self._prompt_rows: list[tuple[int, int, int]] = []
        session.play.on_stop.append(self._stopped)

    # -- the open world ---------------------------------------------------------------------------
    def world(self) -> "World | None":
        return self.session.world if self.session.document is not None else None

    def service(self) -> "AiService | None":
        world = self.world()
        return world.services.get("ai") if world is not None else None

    def _listen(self, world: "World | None") -> None:
        service = self.service()
        system = None
        if service is not None and world is not None:
            try:
                system = service.system_of(world)
            except LookupError:
                system = None
        if system is not self._system:
            if self._system is not None and self in self._system.listeners:
                self._system.listeners.remove(self)
            self._system = system
            if system is not None:
                system.listeners.append(self)
            self.streaming.clear()

    # -- speech listener (NpcSystem calls these at tick starts, on the editor's thread) --------------
    def word(self, entity: int, word: str) -> None:
        self.streaming[entity] = (self.streaming.get(entity, "") + " " + word).strip()
        self._changed = True

    def line(self, entity: int, text: str) -> None:
        self.streaming.pop(entity, None)
        name = self._name(entity)
        self._log(entity).append(f"{name}: {text}" if text else f"({name} says nothing)")
        self._changed = True

    def clear(self, entity: int) -> None:
        if self.streaming.pop(entity, None) is not None:
            self._changed = True

    def _log(self, entity: int) -> "collections.deque[str]":
        return self.logs.setdefault(entity, collections.deque(maxlen=LOG_LINES))

    def _name(self, entity: int) -> str:
        world = self.world()
        return (world.name_of(entity) if world is not None and world.exists(entity) else "") or f"entity {entity}"

    def _stopped(self, why: str) -> None:
        for entity, log in self.logs.items():
            log.append(f"(Play stopped: what {self._name(entity)} heard and said is forgotten)")
        self.streaming.clear()
        self._changed = True

    # -- building ---------------------------------------------------------------------------------
    def build(self, window: int | str) -> None:
        self.window = window
        dpg.add_text("", parent=window, tag="storm_npcs_status", wrap=0, color=DIM)
        dpg.add_listbox([], parent=window, tag="storm_npcs_list", num_items=4, width=-1,
                        callback=lambda s, label: self.choose_label(label))
        with dpg.tab_bar(parent=window, tag="storm_npcs_tabs"):
            with dpg.tab(label="Talk", tag="storm_npcs_talk_tab"):
                dpg.add_text("", tag="storm_npcs_log", wrap=0)
                dpg.add_text("", tag="storm_npcs_talk_note", wrap=0, color=DIM)
                with dpg.group(horizontal=True):
                    dpg.add_input_text(tag="storm_npcs_line", hint="say something", width=-110, on_enter=True,
                                       callback=lambda: self.say_typed())
                    dpg.add_button(label="Say", tag="storm_npcs_say", callback=lambda: self.say_typed())
                    dpg.add_button(label="Play", tag="storm_npcs_play", callback=lambda: self.play())
                dpg.add_separator()
                dpg.add_text("", tag="storm_npcs_plan", wrap=0)
                dpg.add_text("", tag="storm_npcs_memory_note", wrap=0, color=DIM)
                with dpg.table(header_row=True, tag="storm_npcs_memories", policy=dpg.mvTable_SizingStretchProp,
                               borders_innerH=True):
                    for label, weight in (("time", 0.12), ("kind", 0.17), ("imp.", 0.08), ("memory", 0.63)):
                        dpg.add_table_column(label=label, init_width_or_weight=weight)
                    for _ in range(MEMORIES_SHOWN):
                        with dpg.table_row(show=False) as row:
                            cells = tuple(dpg.add_text("", wrap=0) for _ in range(4))
                        self._memory_rows.append((row, *cells))
            with dpg.tab(label="Prompts", tag="storm_npcs_prompts_tab"):
                dpg.add_text("", tag="storm_npcs_prompt_note", wrap=0, color=DIM)
                for index in range(PROMPTS_SHOWN):
                    pick = dpg.add_selectable(label="", user_data=index, show=False,
                                              callback=lambda s, a, u: self._pick(u))
                    stats = dpg.add_text("", wrap=0, show=False, indent=12)
                    out = dpg.add_text("", wrap=0, color=OUTPUT, show=False, indent=12)
                    self._prompt_rows.append((pick, stats, out))
                dpg.add_input_text(tag="storm_npcs_details", multiline=True, readonly=True, width=-1, height=220)
            with dpg.tab(label="Persona", tag="storm_npcs_persona_tab") as persona:
                self.form.build(persona)

    def text_fields(self) -> list[int | str]:
        """Widgets that take typed text (single-key shortcuts stay out of their way)."""
        return ["storm_npcs_line", *self.form.text_fields()]

    # -- choosing ---------------------------------------------------------------------------------
    def choose(self, eid: int) -> None:
        """Show NPC ``eid`` (its persona read from its file)."""
        world = self.world()
        persona = next((p for e, _n, p in self.rows if e == eid), "")
        self.npc, self._picked, self._changed = eid, -1, True
        verbs = ActionRegistry.of(world).names() if world is not None and self.service() is not None else []
        self.form.show(persona, verbs)

    def choose_label(self, label: str) -> None:
        eid = next((e for e, n, _p in self.rows if self._label(e, n) == label), 0)
        if eid:
            self.choose(eid)
            self.session.selection.set([eid])

    @staticmethod
    def _label(eid: int, name: str) -> str:
        return f"{name or 'NPC'} (entity {eid})"

    def _pick(self, index: int) -> None:
        self._picked, self._changed = index, True

    def _persona_saved(self, asset_id: str) -> None:
        if self._system is not None:
            self._system.persona_changed(asset_id)

    # -- talking ------------------------------------------------------------------------------------
    def say_typed(self) -> str:
        """Say what the talk box holds (Enter or Say); '' when the NPC heard it, else the reason."""
        reason = self.say(str(dpg.get_value("storm_npcs_line")))
        if not reason:
            dpg.set_value("storm_npcs_line", "")
        return reason

    def say(self, text: str) -> str:
        """Say ``text`` to the chosen NPC as the player; '' when it heard it, else the reason (shown)."""
        line, world, service = clean_line(text), self.world(), self.service()
        reason = ""
        if service is None or world is None:
            reason = "the AI feature is not installed in this editor (./storm edit installs it)"
        elif not self.npc or not world.exists(self.npc):
            reason = "choose an NPC first"
        elif not self.session.play.playing:
            reason = "talking happens in Play: press Play (F5); Stop forgets what was said"
        elif not line:
            reason = "say something (control characters alone are nothing)"
        elif problem := self._problem(service, world):
            reason = f"{self._name(self.npc)} cannot answer: {problem}"
        elif not service.talk(world, self.npc, line, local_player(world)):
            reason = f"{self._name(self.npc)} cannot hear now"
        if reason:
            self.session.say(f"NPCs: {reason}")
        else:
            self._log(self.npc).append(f"You: {line}")
        self._changed = True
        return reason

    def _problem(self, service: "AiService", world: "World") -> str:
        """Why the chosen NPC has no mind that can answer ('' when it can), as the service says."""
        row = next((r for r in service.npcs(world) if r["entity"] == self.npc), None)
        return "it has no NpcBrain (yet)" if row is None else row["problem"]

    # -- refreshing -------------------------------------------------------------------------------
    def refresh(self) -> None:
        world = self.world()
        if not self.window or world is None:
            return
        self._listen(world)
        session, document = self.session, self.session.document
        rows_key = (id(document), document.version, session.play.playing)
        if rows_key != self._rows_key:
            if not self._rows_key or rows_key[0] != self._rows_key[0]:  # another world: its own conversations
                self.logs.clear()
                self.streaming.clear()
                self.npc = 0
            self._rows_key, self.rows = rows_key, npc_rows(world)
            dpg.configure_item("storm_npcs_list", items=[self._label(e, n) for e, n, _p in self.rows])
            self._changed = True
        personas = {e: p for e, _n, p in self.rows}
        primary = session.selection.primary
        if primary in personas and primary != self.npc:
            self.choose(primary)
        elif self.npc not in personas:
            self.choose(next(iter(personas), 0))
        elif personas[self.npc] != self.form.asset_id:   # its persona field was edited (or undone)
            self.choose(self.npc)
        service = self.service()
        records = service.last_prompts(self.npc, PROMPTS_SHOWN) if service is not None and self.npc else []
        brain = self._brain(world)
        key = (self.npc, session.play.playing, session.play.paused, len(records),
               records[-1].time if records else 0.0, len(brain.memories) if brain else -1, brain.plan if brain else "")
        now = time.monotonic()
        if key == self._key and not self._changed and not (session.play.playing and now - self._asked > PLAY_REFRESH_S):
            return
        self._key, self._asked, self._changed = key, now, False
        self._show_status(service)
        self._show_talk()
        self._show_memories(brain)
        self._show_prompts(list(reversed(records)))

    def _brain(self, world: "World") -> Any:
        cls = world.registry.get("NpcBrain")
        return world.get(self.npc, cls) if cls is not None and self.npc and world.exists(self.npc) else None

    def _show_status(self, service: "AiService | None") -> None:
        if service is None:
            text = "The AI feature is not installed in this editor: NPCs are listed, nothing thinks (./storm edit installs it)."
        else:
            text = "Backends: " + ", ".join(f"{n} {s}" for n, s in service.backend_status().items())
            if not self.rows:
                text += "\nThis world has no NPCs (give an entity the base:npc.Npc behaviour and a persona)."
        dpg.set_value("storm_npcs_status", text)
        label = next((self._label(e, n) for e, n, _p in self.rows if e == self.npc), "")
        if label:
            dpg.set_value("storm_npcs_list", label)

    def _show_talk(self) -> None:
        lines = list(self._log(self.npc)) if self.npc else []
        if self.npc in self.streaming:
            lines.append(f"{self._name(self.npc)}: {self.streaming[self.npc]} ...")
        dpg.set_value("storm_npcs_log", "\n".join(lines[-12:]) or "(nothing said yet)")
        play = self.session.play
        note = ("Talking happens in Play: what an NPC hears and says goes into its memories (world state), "
                "and Stop puts them back." if not play.playing else
                "Paused: the answer comes when Play resumes." if play.paused else
                "You speak as the player; the answer streams in here and above the NPC.")
        dpg.set_value("storm_npcs_talk_note", note)
        dpg.configure_item("storm_npcs_play", show=not play.playing)

    def _show_memories(self, brain: Any) -> None:
        memories = list(reversed(brain.memories))[:MEMORIES_SHOWN] if brain is not None else []
        dpg.set_value("storm_npcs_plan", f"Plan: {brain.plan or '(none yet)'}    Stance: {brain.stance}"
                      if brain is not None else "")
        total = len(brain.memories) if brain is not None else 0
        persona = self.form.persona
        note = (f"{total} memories, most recent first" + (f" (the latest {MEMORIES_SHOWN} shown)"
                                                         if total > MEMORIES_SHOWN else "") if total else
                "No memories yet" + (f": its persona's {len(persona.memories)} starting memories come at Play's "
                                     "first tick" if persona is not None and not self.session.play.playing else ""))
        dpg.set_value("storm_npcs_memory_note", note)
        for index, (row, when, kind, importance, text) in enumerate(self._memory_rows):
            shown = index < len(memories)
            dpg.configure_item(row, show=shown)
            if shown:
                memory = memories[index]
                dpg.set_value(when, f"{memory['time']:.0f} s")
                dpg.set_value(kind, memory["kind"])
                dpg.set_value(importance, str(memory["importance"]))
                dpg.set_value(text, memory["text"])

    def _show_prompts(self, records: list["PromptRecord"]) -> None:
        dpg.set_value("storm_npcs_prompt_note", f"The last {len(records)} requests, newest first (click one for "
                                                "its prompt)" if records else "No requests yet.")
        for index, (pick, stats, out) in enumerate(self._prompt_rows):
            shown = index < len(records)
            for item in (pick, stats, out):
                dpg.configure_item(item, show=shown)
            if shown:
                record = records[index]
                dpg.configure_item(pick, label=record_title(record))
                dpg.set_value(pick, index == max(self._picked, 0))
                dpg.set_value(stats, record_figures(record))
                fallbacks = ("; fell back: " + "; ".join(record.fallbacks)) if record.fallbacks else ""
                dpg.set_value(out, f"-> {record.output or '(no output)'}{fallbacks}")
                dpg.configure_item(out, color=OUTPUT if record.output else ERROR)
        picked = records[min(max(self._picked, 0), len(records) - 1)] if records else None
        dpg.set_value("storm_npcs_details", record_details(picked) if picked is not None else "")
