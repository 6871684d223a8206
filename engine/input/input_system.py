"""The input system: first in every tick, it turns each player's source frame into that player's actions.

Every player (input owner) has an ``Actions`` over the same action map and a source. The local
player's ``Actions`` is ``world.services["input"]``; a behaviour reads the actions of its own
entity's owner (its ``InputOwner``, else the local player) with ``Behaviour.actions``, which
asks ``world.services["input_for"]`` (``InputSystem.actions_for``). A source that fails is logged
and reads as neutral input: the tick never stops for input.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.core.system import ORDER_INPUT, System
from engine.input.action_state import Actions
from engine.input.actions import NEUTRAL, ActionFrame
from engine.input.bindings import RawFrame
from engine.input.components import LOCAL_PLAYER, InputOwner

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.input.recording import Recorder, Recording
    from engine.input.sources import InputSource

log = logging.getLogger("storm.input")
SERVICE = "input"
OWNER_SERVICE = "input_for"  # engine.scripting.behaviour.INPUT_FOR_SERVICE reads it
MAX_WARNINGS = 100  # distinct bad-input messages logged per system; a hostile peer cannot flood the log


@dataclass(frozen=True)
class InputSourceFinished:
    """Sent on the world's event bus on the tick a source with an end (a replay) gave its last frame."""

    source: Any


@dataclass(eq=False)
class PlayerInput:
    """One input owner: its actions and where its input comes from (None: neutral input)."""

    player: str
    actions: Actions
    source: "InputSource | None" = None


class InputSystem(System):
    """Reads one frame per player from that player's source each tick, resolves it to action values,
    and records the local player's if asked."""

    name = "input"
    order = ORDER_INPUT

    def __init__(self, actions: Actions, source: "InputSource | None" = None) -> None:
        self._local = PlayerInput(LOCAL_PLAYER, actions, source)
        self._players: dict[str, PlayerInput] = {LOCAL_PLAYER: self._local}
        self.recorder: "Recorder | None" = None
        self._world: "World | None" = None
        self._warned: set[str] = set()

    # -- the local player (what a single-player game and recordings use) -------------------------
    @property
    def actions(self) -> Actions:
        """The local player's actions."""
        return self._local.actions

    @property
    def source(self) -> "InputSource | None":
        """Where the local player's input comes from."""
        return self._local.source

    def set_source(self, source: "InputSource | None", player: str = LOCAL_PLAYER) -> None:
        """Switch where a player's input comes from (None: neutral input, as for a peer that left)."""
        self._player(player).source = source

    # -- players --------------------------------------------------------------------------------
    def add_player(self, player: str, source: "InputSource | None" = None) -> Actions:
        """Make sure ``player`` is an input owner (reading ``source`` when given); returns its actions."""
        entry = self._player(player)
        if source is not None:
            entry.source = source
        return entry.actions

    def remove_player(self, player: str) -> None:
        """Forget a player; entities it owned read neutral input (the local player always stays)."""
        if player != LOCAL_PLAYER:
            self._players.pop(player, None)

    def players(self) -> list[str]:
        """The input owners, the local player first, then in the order they came."""
        return list(self._players)

    def actions_of(self, player: str) -> Actions:
        """A player's actions (a player not seen before is added, with no source: neutral input)."""
        return self._player(player).actions

    def source_of(self, player: str) -> "InputSource | None":
        entry = self._players.get(player)
        return entry.source if entry is not None else None

    def owner_of(self, entity: int) -> str:
        """The player whose input drives ``entity``: its InputOwner's, else the local player."""
        owner = self._world.get(entity, InputOwner) if self._world is not None else None
        return owner.player if owner is not None else LOCAL_PLAYER

    def actions_for(self, entity: int) -> Actions:
        """The actions of the player who owns ``entity`` (what ``Behaviour.actions`` returns)."""
        return self._player(self.owner_of(entity)).actions

    def _player(self, player: str) -> PlayerInput:
        entry = self._players.get(player)
        if entry is None:
            entry = self._players[player] = PlayerInput(player, Actions(self._local.actions.defaults))
        return entry

    # -- the tick -------------------------------------------------------------------------------
    def attach(self, world: "World") -> None:
        self._world = world
        world.services[SERVICE] = self.actions
        world.services[OWNER_SERVICE] = self.actions_for

    def detach(self, world: "World") -> None:
        if world.services.get(SERVICE) is self.actions:
            del world.services[SERVICE]
        if world.services.get(OWNER_SERVICE) == self.actions_for:
            del world.services[OWNER_SERVICE]
        self._world = None

    def update(self, world: "World", dt: float) -> None:
        for entry in list(self._players.values()):
            frame = self._poll(world, entry)
            entry.actions.advance(frame)
            if entry is self._local and self.recorder is not None:
                self.recorder.add(frame)

    def _poll(self, world: "World", entry: PlayerInput) -> ActionFrame:
        source = entry.source
        if source is None or source.finished:
            return NEUTRAL
        frame = NEUTRAL
        try:
            frame = self._to_actions(entry, source.poll())
        except Exception:  # noqa: BLE001 - a broken device or file must not stop the tick
            if self._first_time(f"poll:{entry.player}:{type(source).__name__}"):
                log.exception("input: source %s failed (player %r); its input reads as neutral",
                              type(source).__name__, entry.player)
        if source.finished:
            world.events.emit(InputSourceFinished(source))
        return frame

    def _to_actions(self, entry: PlayerInput, got: Any) -> ActionFrame:
        action_map = entry.actions.map
        if isinstance(got, RawFrame):
            return action_map.resolve(got)
        frame, problems = action_map.sanitize(got)
        for what, message in problems:
            if self._first_time(f"{entry.player}:{what}"):
                log.error("input: %s (player %r) sent %s; dropped (reported once)", type(entry.source).__name__,
                          entry.player, message)
        return frame

    def _first_time(self, key: str) -> bool:
        if key in self._warned or len(self._warned) >= MAX_WARNINGS:
            return False
        self._warned.add(key)
        return True

    # -- snapshots ------------------------------------------------------------------------------
    def save_state(self, world: "World") -> Any:
        """Each player's action values of the tick just run (what behaviours read until the next
        tick) and the buttons then held (what the next tick's pressed and released are measured
        against). Sources are not state: they are where input comes from."""
        return {player: entry.actions.save_state() for player, entry in self._players.items()}

    def load_state(self, world: "World", state: Any) -> None:
        if not state:
            return
        for player, saved in state.items():
            self._player(player).actions.load_state(saved)

    # -- recording (the local player) -----------------------------------------------------------
    def start_recording(self) -> "Recorder":
        """Record the local player's action values from the next tick on; ``stop_recording`` hands them back."""
        from engine.input.recording import Recorder

        if self._world is None:
            raise RuntimeError("add the InputSystem to a world before recording")
        self.recorder = Recorder(self._world.tick_rate, self._world.seed, self.actions.map.kinds())
        return self.recorder

    def stop_recording(self) -> "Recording | None":
        recorder, self.recorder = self.recorder, None
        return recorder.recording if recorder is not None else None
