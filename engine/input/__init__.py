"""Input as actions: action maps declared in data and bound to keyboard, mouse and gamepad,
rebindable per user, resolved once per tick by the InputSystem; recordings that replay headless.

Behaviours read ``self.actions`` (the ``Actions`` of their entity's InputOwner, by default the local
player, whose actions are also ``world.services["input"]``), never raw keys. See docs/input.md.
"""
from engine.input.action_state import DEFAULT_ACTIONS, Actions, open_actions
from engine.input.actions import ActionDef, ActionFrame, ActionMap, BindingError, load_action_map, parse_action_map
from engine.input.bindings import RawFrame
from engine.input.components import LOCAL_PLAYER, InputOwner
from engine.input.input_system import InputSourceFinished, InputSystem
from engine.input.recording import Recording, ReplaySource, load_recording, replay
from engine.input.sources import DirectActionSource, InputSource, ScriptedSource

__all__ = [
    "DEFAULT_ACTIONS", "LOCAL_PLAYER", "ActionDef", "ActionFrame", "ActionMap", "Actions", "BindingError",
    "DirectActionSource", "InputOwner", "InputSource", "InputSourceFinished", "InputSystem", "RawFrame", "Recording",
    "ReplaySource", "ScriptedSource", "load_action_map", "load_recording", "open_actions", "parse_action_map", "replay",
]
