"""The hooks of plugin API 1.0: what the engine and the editor call on a plugin, by keyword.

Every hook is optional. A hook function names only the arguments it wants; the host never passes
positional arguments, so adding an argument to a spec (a minor API version) never breaks a plugin.
Two arguments are filled in by the host wherever a spec has them: ``world`` (a
``plugins.api.WorldAccess``) and ``plugin`` (the plugin's ``plugins.api.PluginContext``: its id,
settings, data folder, ``publish`` and ``log``), which every hook offers.

Declarations (the ``storm_*s`` hooks returning lists) are plain data (dicts, lists, strings,
numbers) so that a sandboxed plugin can return them over its pipe; the host checks each one
(``plugins.declarations``). Field declarations (components, world command arguments, event
types) read ``{"type": "float", "default": 1.0, "min": 0, "max": 10, "doc": "..."}`` with types
bool, int, float, str, enum (with ``choices``), vec3, color, entity and json (events only).

This module imports nothing of the engine: the sandbox's process uses it too.
"""
from __future__ import annotations

import difflib
import importlib.util
import inspect
import sys
from types import ModuleType
from typing import Any

import pluggy

from plugins.api import PLUGIN_API_VERSION, PROJECT

hookspec = pluggy.HookspecMarker(PROJECT)
INJECTED = ("world", "plugin")


# -- lifecycle ----------------------------------------------------------------------------------
@hookspec
def storm_init(plugin: Any) -> None:
    """Once, after the plugin's declarations were read and before its first update."""


@hookspec
def storm_update(dt: float, tick: int, world: Any, plugin: Any) -> None:
    """Every tick of a world the plugin host runs in, after the plugin's queued events."""


@hookspec
def storm_shutdown(reason: str, plugin: Any) -> None:
    """Once, before the plugin stops (``reason``: shutdown, reload, or why it was stopped)."""


# -- engine extension points ----------------------------------------------------------------------
@hookspec
def storm_systems(plugin: Any) -> list[dict[str, Any]]:
    """Systems to add to every world: ``[{"name": "grow", "order": 250, "profiles": ["game"]}]``;
    ``order`` places it in the tick (input 100, scripts 200, AI 250, physics 300, audio 400)."""


@hookspec
def storm_system_update(system: str, dt: float, tick: int, world: Any, plugin: Any) -> None:
    """One of the plugin's systems runs its tick (``system``: its name as declared)."""


@hookspec
def storm_components(plugin: Any) -> list[dict[str, Any]]:
    """Component types: ``[{"name": "Health", "doc": "...", "fields": {"hp": {"type": "float",
    "default": 100, "min": 0}}}]``; registered as ``<pack id>:<name>`` in every world. A trusted
    plugin may also return Component subclasses."""


@hookspec
def storm_asset_importers(plugin: Any) -> list[dict[str, Any]]:
    """Importers for file types the engine does not read: ``[{"name": "csvmap", "extensions": [".csv"]}]``."""


@hookspec
def storm_import_asset(importer: str, name: str, data: bytes, plugin: Any) -> Any:
    """Turn a file's bytes into JSON data (entities, a prefab, a table) for one declared importer."""


@hookspec
def storm_cli_commands(plugin: Any) -> list[dict[str, Any]]:
    """Commands for ``./storm``: ``[{"name": "stats", "help": "count the trees"}]`` (run as ``<pack id>:stats``)."""


@hookspec
def storm_cli_run(command: str, args: list[str], world: Any, plugin: Any) -> Any:
    """Run one declared CLI command; return the text to print (or ``{"code": 1, "output": "..."}``);
    ``world`` is the running world, if there is one."""


@hookspec
def storm_world_commands(plugin: Any) -> list[dict[str, Any]]:
    """World commands (console, editor, network): ``[{"name": "plant", "doc": "...", "arguments":
    {"count": {"type": "int", "default": 1, "min": 1}}}]``; run as ``<pack id>:plant``."""


@hookspec
def storm_world_command(command: str, arguments: dict[str, Any], world: Any, plugin: Any) -> list[dict[str, Any]]:
    """Expand one declared world command into engine commands (JSON); the host applies them as
    one transaction, so a single undo takes the whole command back (needs ``world_write``)."""


# -- the event bus ----------------------------------------------------------------------------------
@hookspec
def storm_event_types(plugin: Any) -> list[dict[str, Any]]:
    """Event types the plugin publishes: ``[{"name": "rain", "fields": {"strength": {"type": "float"}}}]``
    (published as ``<pack id>:rain`` through ``plugin.publish``)."""


@hookspec
def storm_subscriptions(plugin: Any) -> list[str]:
    """Event types the plugin wants: ``["storm:entity_created", "weather:rain"]``."""


@hookspec
def storm_event(type: str, data: dict[str, Any], source: str, world: Any, plugin: Any) -> None:
    """One event from the plugin's bounded queue (``storm:events_dropped`` says how many were lost)."""


# -- editor extension points (called by the editor) -----------------------------------------------
@hookspec
def storm_editor_panels(plugin: Any) -> list[dict[str, Any]]:
    """Dockable panels: ``[{"id": "trees", "title": "Trees"}]``."""


@hookspec
def storm_editor_panel(panel: str, selection: list[int], world: Any, plugin: Any) -> list[dict[str, Any]]:
    """The widgets of one panel now, as data (see ``plugins.declarations.WIDGETS``)."""


@hookspec
def storm_editor_menu_items(plugin: Any) -> list[dict[str, Any]]:
    """Menu entries: ``[{"menu": "Tools", "label": "Plant trees", "action": "plant"}]``."""


@hookspec
def storm_editor_inspectors(plugin: Any) -> list[dict[str, Any]]:
    """Inspector sections for component types: ``[{"component": "Light"}]``."""


@hookspec
def storm_editor_inspector(component: str, entity: int, values: dict[str, Any], world: Any,
                           plugin: Any) -> list[dict[str, Any]]:
    """The widgets shown under a component of that type in the inspector."""


@hookspec
def storm_editor_action(action: str, selection: list[int], value: Any, world: Any, plugin: Any) -> None:
    """A menu item was chosen or a panel/inspector widget was used (``value``: the widget's new value)."""


DECLARATION_HOOKS = ("storm_systems", "storm_components", "storm_asset_importers", "storm_cli_commands",
                     "storm_world_commands", "storm_event_types", "storm_subscriptions", "storm_editor_panels",
                     "storm_editor_menu_items", "storm_editor_inspectors")
SPECS: dict[str, tuple[str, ...]] = {
    name: tuple(inspect.signature(value).parameters)
    for name, value in vars(sys.modules[__name__]).items() if name.startswith("storm_") and callable(value)}


class HookProblem(Exception):
    """A plugin function that cannot be a hook: names the function, its line and what is wrong."""

    def __init__(self, function: str, line: int, message: str) -> None:
        self.function = function
        self.line = line
        super().__init__(message)


class StormPluginManager(pluggy.PluginManager):
    """A pluggy manager for one plugin: functions named ``storm_*`` are hooks without a marker."""

    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.add_hookspecs(sys.modules[__name__])

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("storm_") and inspect.isfunction(getattr(plugin, name, None)):
            opts = {}
        return opts


def check_hooks(module: ModuleType) -> dict[str, int]:
    """The plugin's hook functions and the line each is defined on; raises HookProblem for an
    unknown ``storm_`` name or an argument the spec does not offer (pluggy would refuse both)."""
    found: dict[str, int] = {}
    for name, value in vars(module).items():
        if not name.startswith("storm_") or not inspect.isfunction(value):
            continue
        line = value.__code__.co_firstlineno
        if name not in SPECS:
            close = difflib.get_close_matches(name, list(SPECS), n=1)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise HookProblem(name, line, f"{name} is not a hook of plugin API {PLUGIN_API_VERSION}{hint}")
        offered = SPECS[name]
        for argument in inspect.signature(value).parameters.values():
            if argument.kind in (argument.VAR_POSITIONAL, argument.VAR_KEYWORD):
                continue
            if argument.name not in offered:
                raise HookProblem(name, line, f"{name} takes an argument {argument.name!r} the engine does not "
                                              f"pass (it passes {', '.join(offered) or 'nothing'})")
        found[name] = line
    return found


def load_plugin_file(entry: str, plugin_id: str) -> ModuleType:
    """Run a plugin's Python file as the module ``storm_plugin_<id>`` (code the user chose to
    enable; a pack's data never reaches here)."""
    name = f"storm_plugin_{plugin_id}"
    spec = importlib.util.spec_from_file_location(name, entry)
    if spec is None or spec.loader is None:
        raise ImportError(f"{entry} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def register(module: ModuleType) -> StormPluginManager:
    """A manager with the plugin module registered (after ``check_hooks``)."""
    manager = StormPluginManager()
    manager.register(module, name=module.__name__)
    return manager


def complete(hook: str, kwargs: dict[str, Any], world: Any, plugin: Any) -> dict[str, Any]:
    """The keyword arguments for a hook call: ``kwargs`` plus ``world``/``plugin`` where the spec has them."""
    offered = SPECS[hook]
    full = {key: value for key, value in kwargs.items() if key in offered}
    if "world" in offered:
        full["world"] = world
    if "plugin" in offered:
        full["plugin"] = plugin
    for name in offered:  # pluggy warns about spec arguments a call leaves out
        full.setdefault(name, None)
    return full


def call(manager: StormPluginManager, hook: str, kwargs: dict[str, Any]) -> Any:
    """Call one hook of a one-plugin manager; its return value (None when not implemented)."""
    results = getattr(manager.hook, hook)(**kwargs)
    return results[0] if results else None
