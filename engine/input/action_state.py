"""The actions behaviours read each tick (``self.actions``: their entity's input owner's; the local
player's are also ``world.services["input"]``), and where they come from.

Behaviours read actions, never keys::

    actions = self.actions
    if actions.pressed("jump"): ...
    x, y = actions.vector("move")

so a keyboard, a gamepad, a replay file, a network peer or an XR controller can drive them alike.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.errors import DataError
from engine.input.actions import NEUTRAL, ActionFrame, ActionMap, parse_action_map
from engine.input.bindings import AXIS_KIND, BUTTON_KIND, VECTOR_KIND
from engine.input.user_bindings import UserBindings, user_bindings_path

if TYPE_CHECKING:
    from engine.packs.content import ContentRegistry

log = logging.getLogger("storm.input")

DEFAULT_ACTIONS = "base:input/default.actions.json"
_READERS = {"held": BUTTON_KIND, "pressed": BUTTON_KIND, "released": BUTTON_KIND, "axis": AXIS_KIND,
            "vector": VECTOR_KIND}


class Actions:
    """This tick's value of every action in a map: buttons held, pressed (went down this tick) and
    released (went up this tick), axes in -1..1 and 2D vectors of length up to 1.

    Reading an action the map does not declare, or with the wrong reader, logs one clear error
    and reads as neutral; the world keeps running.
    """

    def __init__(self, action_map: ActionMap, user: UserBindings | None = None) -> None:
        self.defaults = action_map
        self.user = user or UserBindings(None, self.defaults.source)
        self.map = self.user.apply(self.defaults)
        self._frame = NEUTRAL
        self._held: frozenset[str] = frozenset()
        self._pressed: frozenset[str] = frozenset()
        self._released: frozenset[str] = frozenset()
        self._warned: set[tuple[str, str]] = set()

    @property
    def problems(self) -> list[str]:
        """What was wrong with the map and the saved rebindings (inputs bound twice), as logged."""
        return self.defaults.problems + self.map.problems

    # -- what behaviours read -------------------------------------------------------------------
    def held(self, action: str) -> bool:
        """True while the button action is down."""
        if action in self._held:
            return True
        return self._misread(action, "held")

    def pressed(self, action: str) -> bool:
        """True on the one tick the button action went down."""
        if action in self._pressed:
            return True
        return self._misread(action, "pressed")

    def released(self, action: str) -> bool:
        """True on the one tick the button action went up."""
        if action in self._released:
            return True
        return self._misread(action, "released")

    def axis(self, action: str) -> float:
        """The axis action's value, -1..1 (0 when nothing drives it)."""
        value = self._frame.axes.get(action)
        if value is None:
            self._misread(action, "axis")
            return 0.0
        return value

    def vector(self, action: str) -> tuple[float, float]:
        """The 2D action's value (x right, y forward/up), length at most 1."""
        value = self._frame.vectors.get(action)
        if value is None:
            self._misread(action, "vector")
            return 0.0, 0.0
        return value

    def frame(self) -> ActionFrame:
        """This tick's values (what a recording stores)."""
        return self._frame

    def _misread(self, action: str, reader: str) -> bool:
        """Log once when an action is read that the map lacks or with the wrong reader; always False."""
        kind = self.map.kind(action)
        wanted = _READERS[reader]
        if kind == wanted or (action, reader) in self._warned:
            return False
        self._warned.add((action, reader))
        if kind is None:
            log.error("input: no action %r in %s (actions: %s); it reads as neutral", action, self.map.source,
                      ", ".join(self.map.actions) or "none")
        else:
            hint = {BUTTON_KIND: "held/pressed/released", AXIS_KIND: "axis", VECTOR_KIND: "vector"}[kind]
            log.error("input: action %r of %s is a %s action, read it with %s, not %s; it reads as neutral",
                      action, self.map.source, kind, hint, reader)
        return False

    # -- advancing ------------------------------------------------------------------------------
    def advance(self, frame: ActionFrame) -> None:
        """Take the next tick's values (already resolved or sanitized by the input system)."""
        previous = self._held
        held = frame.held
        self._pressed = held - previous
        self._released = previous - held
        self._held = held
        self._frame = frame

    def save_state(self) -> tuple[ActionFrame, frozenset[str], frozenset[str], frozenset[str]]:
        """This tick's values and the buttons held, pressed and released (a World snapshot keeps them)."""
        frame = self._frame
        return (ActionFrame(frame.held, dict(frame.axes), dict(frame.vectors)), self._held, self._pressed,
                self._released)

    def load_state(self, state: tuple[ActionFrame, frozenset[str], frozenset[str], frozenset[str]]) -> None:
        frame, self._held, self._pressed, self._released = state
        self._frame = ActionFrame(frame.held, dict(frame.axes), dict(frame.vectors))

    # -- rebinding ------------------------------------------------------------------------------
    def rebind(self, action: str, old: str, new: str, save: bool = True) -> None:
        """Bind ``new`` where ``action`` used ``old`` and (by default) save it for this user.

        Raises BindingError naming the map, action and input when it cannot be done (the input is
        bound elsewhere already, unknown, or not of a kind that fits); nothing changes then.
        Meant for a settings screen: saving writes a small file at once.
        """
        self.map.rebind(action, old, new)
        self.user.remember(self.map.actions[action], self.defaults.actions.get(action))
        if save:
            self.user.save()

    def reset_bindings(self, action: str | None = None, save: bool = True) -> None:
        """Go back to the map's default bindings for one action or all of them."""
        self.user.forget(action)
        self.map = self.user.apply(self.defaults)
        if save:
            self.user.save()


def open_actions(content: "ContentRegistry | None" = None, asset_id: str = DEFAULT_ACTIONS, *,
                 per_user: bool = True, user_path: Path | str | None = None) -> Actions:
    """Load an action map by asset id with this user's saved rebindings; never raises.

    A map that cannot be read is logged; the base default map stands in for it (or an empty map,
    when the default itself is broken), so the world keeps running.
    """
    if content is None:
        from engine.packs.content import default_content

        content = default_content()
    action_map = _load(content, asset_id)
    if action_map is None and asset_id != DEFAULT_ACTIONS:
        log.error("input: using %s instead of %s", DEFAULT_ACTIONS, asset_id)
        asset_id = DEFAULT_ACTIONS
        action_map = _load(content, asset_id)
    if action_map is None:
        return Actions(ActionMap(asset_id))
    user = UserBindings.load(user_path or user_bindings_path(), asset_id) if per_user else None
    return Actions(action_map, user)


def _load(content: "ContentRegistry", asset_id: str) -> ActionMap | None:
    try:
        if not content.has(asset_id):
            raise DataError(asset_id, "", "an action map file in an enabled content pack")
        try:
            data = content.read_json(asset_id)
        except DataError as exc:  # messages name the map by its asset id (a patch error keeps its file)
            if exc.source != content.display(asset_id):
                raise
            raise DataError(asset_id, exc.path, exc.expected, exc.got) from None
        return parse_action_map(data, asset_id)
    except (DataError, ValueError) as exc:
        log.error("input: the action map could not be loaded: %s", exc)
        return None
