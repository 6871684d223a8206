"""The plugin API: the one module of Storm a plugin file imports (and only if it wants to).

A plugin is a Python file in a pack of kind ``plugin`` or ``both`` (``[plugin] entry`` in its
pack.toml). Its functions named ``storm_<hook>`` are its hooks (see ``plugins.hookspecs``); the
host calls them by keyword, passing only the arguments each function names, so a plugin written
for an older API keeps working when a hook gains arguments::

    def storm_update(dt, world):          # the spec also offers tick; this plugin does not need it
        for eid in world.query("Light"):
            ...

``PLUGIN_API_VERSION`` is the engine API version (``engine.core.api_version``, the one number a
pack's ``engine`` range is checked against) in full SemVer form: a minor release adds hooks, hook
arguments or request kinds; a major release is the only one that removes or changes one. A pack
states the versions it works with in pack.toml's ``engine`` range (``engine = ">=1.0, <2"``); the
host refuses a plugin whose range leaves this version out.

Hooks receive the world as a ``WorldAccess``: plain JSON data addressed by entity ids, the same
whether the plugin runs in the engine's process (trusted) or in its sandbox (everyone else).
This module imports nothing of the engine: the sandbox's process never loads it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pluggy

PLUGIN_API_VERSION = "1.0.0"  # engine.core.api_version.API_VERSION in full (a test keeps them equal)
PROJECT = "storm"
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Optional marker for hook functions (``@hookimpl(tryfirst=True)``); plain ``storm_*`` functions are hooks too."""

Transport = Callable[[str, dict[str, Any]], Any]
"""Sends one request (``what``, ``args``) to the host and returns its answer, or raises."""


class PluginAPIError(Exception):
    """Base of the errors the host answers a plugin's request with."""


class PermissionDenied(PluginAPIError, PermissionError):
    """The plugin asked for something its pack.toml permissions do not allow."""


class CommandRefused(PluginAPIError):
    """The world refused a command (no such entity, a bad value...): the message says why."""


class RequestError(PluginAPIError):
    """A request the host could not read (a bad argument, an unknown component type)."""


class WorldAccess:
    """The world as a plugin sees it. Reading needs the ``world_read`` permission, changing it
    (``apply``, ``post``: commands as JSON, see docs/world-state.md) ``world_write``."""

    def __init__(self, transport: Transport) -> None:
        self._request = transport

    def info(self) -> dict[str, Any]:
        """``{"name", "tick", "time", "entities"}`` of the running world."""
        return self._request("info", {})

    def entities(self, limit: int = 10_000) -> list[int]:
        """Entity ids in creation order (at most ``limit``)."""
        return self._request("entities", {"limit": limit})

    def entity(self, entity: int) -> dict[str, Any] | None:
        """``{"id", "name", "parent", "components": [type names]}``, or None when there is no such entity."""
        return self._request("entity", {"entity": entity})

    def query(self, *types: str, limit: int = 10_000) -> list[int]:
        """Ids of the entities that have a component of every type named (``"Light"``, ``"forest:Tree"``)."""
        return self._request("query", {"types": list(types), "limit": limit})

    def get(self, entity: int, type_name: str) -> dict[str, Any] | None:
        """One component's field values as JSON data, or None when the entity has none of that type."""
        return self._request("get", {"entity": entity, "type": type_name})

    def components(self, entity: int) -> dict[str, dict[str, Any]]:
        """Every component of an entity: ``{type name: field values}``."""
        return self._request("components", {"entity": entity})

    def transform(self, entity: int) -> dict[str, list[float]]:
        """The entity's local ``pos``, ``hpr`` and ``scale``."""
        return self._request("transform", {"entity": entity})

    def schema(self, type_name: str) -> dict[str, Any]:
        """The JSON schema of a component type's fields."""
        return self._request("schema", {"type": type_name})

    def apply(self, command: dict[str, Any]) -> dict[str, Any]:
        """Apply a command now (``{"command": "SetFields", "entity": 3, ...}``) and return its
        inverse; raises CommandRefused with the world's reason."""
        return self._request("apply", {"command": command})

    def post(self, command: dict[str, Any]) -> None:
        """Queue a command for the start of the next tick (a refused one is logged by the host)."""
        self._request("post", {"command": command})


@dataclass
class PluginContext:
    """Who the plugin is and what it was given; passed to hooks that name a ``plugin`` argument."""

    id: str
    version: str
    name: str
    permissions: tuple[str, ...]
    settings: dict[str, Any]
    data_folder: str | None  # the folder a ``files`` permission covers (created by the host), else None
    sandboxed: bool
    api_version: str = PLUGIN_API_VERSION
    _request: Transport | None = field(default=None, repr=False)
    _log: Callable[[str, str], None] | None = field(default=None, repr=False)

    def publish(self, event_type: str, data: dict[str, Any] | None = None) -> None:
        """Publish an event of a type this plugin declared (``storm_event_types``) on the plugin bus."""
        if self._request is not None:
            self._request("publish", {"type": event_type, "data": data or {}})

    def log(self, text: str, level: str = "info") -> None:
        """A line in the engine's log, under the plugin's name (``info``, ``warning`` or ``error``)."""
        self.log_line(level, str(text))

    def log_line(self, level: str, text: str) -> None:
        if self._log is not None:
            self._log(level, text)
