"""The player's own bindings: actions they rebound, saved per user and re-applied when a map loads.

The file (``$XDG_CONFIG_HOME/storm/input.json``, by default ``~/.config/storm/input.json``) keeps,
per action map, the full binding list of each action the player changed::

    {"storm_input_user": 1,
     "maps": {"base:input/default.actions.json": {"jump": ["j", "gamepad:face_a"]}}}

Saving the whole list (not a list of key swaps) makes swaps and chains of rebinds order-free.
A broken user file never stops a game: it is reported and the defaults are used.
"""
from __future__ import annotations

import copy
import logging
import os
from pathlib import Path
from typing import Any

from engine.core.errors import DataError
from engine.input.actions import ActionDef, ActionMap
from engine.input.bindings import PARSERS, binding_to_data
from engine.packs.json_text import atomic_write, dumps_canonical, read_json

log = logging.getLogger("storm.input")

VERSION_KEY = "storm_input_user"
CURRENT_VERSION = 1


def user_config_dir() -> Path:
    """Storm's per-user settings folder: ``$XDG_CONFIG_HOME/storm`` (``%APPDATA%\\storm`` on Windows)."""
    base = os.environ.get("XDG_CONFIG_HOME")
    if not base and os.name == "nt":
        base = os.environ.get("APPDATA")
    return Path(base or Path.home() / ".config") / "storm"


def user_bindings_path() -> Path:
    return user_config_dir() / "input.json"


def _read_file(path: Path) -> dict[str, Any]:
    """The user file's data, an empty one when it does not exist; raises DataError when it is bad."""
    if not path.exists():
        return {VERSION_KEY: CURRENT_VERSION, "maps": {}}
    data = read_json(path)
    if not isinstance(data, dict) or data.get(VERSION_KEY) != CURRENT_VERSION:
        raise DataError(str(path), VERSION_KEY, f"an object with \"{VERSION_KEY}\": {CURRENT_VERSION}",
                        data.get(VERSION_KEY) if isinstance(data, dict) else data)
    maps = data.get("maps", {})
    if not isinstance(maps, dict) or not all(isinstance(m, dict) for m in maps.values()):
        raise DataError(str(path), "maps", "an object of maps, each an object of actions", maps)
    return data


class UserBindings:
    """One player's rebindings of one action map (keyed by the map's source) and the file they live in
    (``path`` None: kept in memory only, for servers and tests)."""

    def __init__(self, path: Path | str | None, map_key: str, overrides: dict[str, Any] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.map_key = map_key
        self.overrides: dict[str, Any] = overrides or {}

    @classmethod
    def load(cls, path: Path | str, map_key: str) -> "UserBindings":
        """The saved rebindings of a map; a bad file is logged and treated as empty (it is not overwritten
        until the player rebinds again)."""
        try:
            overrides = _read_file(Path(path))["maps"].get(map_key, {})
        except DataError as exc:
            log.error("input: your saved bindings could not be read, using the defaults: %s", exc)
            overrides = {}
        return cls(path, map_key, copy.deepcopy(overrides))

    def apply(self, defaults: ActionMap) -> ActionMap:
        """A new map: the defaults with the saved binding lists put in. A saved action that no longer
        exists or no longer parses is logged and skipped; inputs now bound twice are reported by the map."""
        source = str(self.path or "rebindings")
        actions: list[ActionDef] = []
        for name, action in defaults.actions.items():
            saved = self.overrides.get(name)
            bindings = list(action.bindings)
            if saved is not None:
                where = f"maps.{self.map_key}.{name}"
                try:
                    if not isinstance(saved, list):
                        raise DataError(source, where, "a list of bindings", saved)
                    parse = PARSERS[action.kind]
                    bindings = [parse(b, source, f"{where}[{i}]") for i, b in enumerate(saved)]
                except DataError as exc:
                    log.error("input: a saved binding was skipped, action %r keeps its default: %s", name, exc)
            actions.append(ActionDef(name, action.kind, action.doc, bindings))
        for name in self.overrides:
            if name not in defaults.actions:
                log.warning("input: %s has saved bindings for action %r, which %s no longer declares; ignored",
                            self.path, name, defaults.source)
        merged = ActionMap(defaults.source, actions)
        if merged.problems and self.overrides:
            log.error("input: the conflicts above come from your saved bindings in %s", self.path)
        return merged

    def remember(self, action: ActionDef, default: ActionDef | None) -> None:
        """Note an action's current bindings; an action back at its default is forgotten."""
        current = [binding_to_data(b) for b in action.bindings]
        if default is not None and current == [binding_to_data(b) for b in default.bindings]:
            self.overrides.pop(action.name, None)
        else:
            self.overrides[action.name] = current

    def forget(self, action: str | None = None) -> None:
        """Drop the saved bindings of one action, or of every action of this map."""
        if action is None:
            self.overrides.clear()
        else:
            self.overrides.pop(action, None)

    def save(self) -> None:
        """Write this map's rebindings atomically, keeping other maps' entries in the file."""
        if self.path is None:
            return
        try:
            data = _read_file(self.path)
        except DataError as exc:
            log.warning("input: replacing unreadable %s: %s", self.path, exc)
            data = {VERSION_KEY: CURRENT_VERSION, "maps": {}}
        maps = data.setdefault("maps", {})
        if self.overrides:
            maps[self.map_key] = self.overrides
        else:
            maps.pop(self.map_key, None)
        atomic_write(self.path, dumps_canonical(data))
