"""The extension points plugins fill, for the engine (components, asset importers, CLI commands,
world commands; systems are rows of ``Runtime.add_system``, see ``plugins.host``) and for the
editor (panels, menu items, inspectors for a component type).

The editor calls ``EditorExtensions`` (``editor/plugin_panels.py`` draws what it returns). Everything a plugin
answers is checked (``plugins.declarations``); a plugin that answers nonsense is stopped and
reported like one that raised.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Iterable

from engine.core.commands import Command, CommandError, Transaction, command_from_json
from engine.core.component import Component
from engine.core.errors import FieldError, StormError
from engine.core.world import World
from plugins.declarations import (
    DeclarationError,
    NamedDecl,
    SystemDecl,
    parse_components,
    parse_event_types,
    parse_inspectors,
    parse_named,
    parse_subscriptions,
    parse_systems,
    parse_widgets,
)
from plugins.discovery import PluginInfo
from plugins.events import DROPPED, EventError, EventType, JsonValue, PluginEventBus
from plugins.reports import PluginFailure

if TYPE_CHECKING:
    from plugins.host import PluginHost

MAX_COMMANDS = 10_000


class PluginCommandError(StormError):
    """A plugin's CLI or world command that could not run: names the command and why."""


@dataclass
class Declared:
    """Everything one plugin declared, checked."""

    systems: list[SystemDecl] = field(default_factory=list)
    components: list[type[Component]] = field(default_factory=list)
    importers: list[NamedDecl] = field(default_factory=list)
    cli: list[NamedDecl] = field(default_factory=list)
    world_commands: list[NamedDecl] = field(default_factory=list)
    event_types: list[EventType] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    panels: list[NamedDecl] = field(default_factory=list)
    menu_items: list[NamedDecl] = field(default_factory=list)
    inspectors: list[str] = field(default_factory=list)


def read_declarations(info: PluginInfo, answers: dict[str, Any], bus: PluginEventBus) -> Declared:
    """Check a plugin's answers to the declaration hooks and declare its event types on the bus;
    raises DeclarationError naming the hook and the place."""
    pid = info.id
    declared = Declared(
        systems=parse_systems(pid, answers.get("storm_systems")),
        components=parse_components(pid, answers.get("storm_components"), info.trusted),
        importers=parse_named(pid, answers.get("storm_asset_importers"), "storm_asset_importers()",
                              {"name", "extensions"}, set()),
        cli=parse_named(pid, answers.get("storm_cli_commands"), "storm_cli_commands()", {"name"}, {"help"},
                        text_key="help"),
        world_commands=parse_named(pid, answers.get("storm_world_commands"), "storm_world_commands()", {"name"},
                                   {"doc", "arguments"}, text_key="doc"),
        event_types=parse_event_types(pid, answers.get("storm_event_types")),
        subscriptions=parse_subscriptions(answers.get("storm_subscriptions")),
        panels=parse_named(pid, answers.get("storm_editor_panels"), "storm_editor_panels()", {"id"}, {"title"},
                           name_key="id", text_key="title"),
        menu_items=parse_named(pid, answers.get("storm_editor_menu_items"), "storm_editor_menu_items()",
                               {"menu", "label", "action"}, set(), name_key="action", text_key="label"),
        inspectors=parse_inspectors(pid, answers.get("storm_editor_inspectors")))
    for cls in declared.components:
        if not cls.type_name.startswith(pid + ":"):
            raise DeclarationError(f"storm_components(): expected type names in the plugin's namespace "
                                   f"('{pid}:...'), got {cls.type_name!r}")
    for name in declared.subscriptions:
        if name.startswith("storm:") and name != DROPPED and "world_read" not in info.permissions:
            raise DeclarationError(f"storm_subscriptions(): {name} needs the world_read permission in pack.toml")
    for event_type in declared.event_types:
        try:
            bus.declare(event_type)
        except EventError as exc:
            raise DeclarationError(f"storm_event_types(): {exc}") from None
    return declared


class _Points:
    def __init__(self, host: "PluginHost") -> None:
        self.host = host

    def _running(self) -> Iterable[tuple[str, Declared]]:
        for plugin_id, record in self.host.records.items():
            if record.status == "running":
                yield plugin_id, record.declared

    def _bad_answer(self, plugin_id: str, hook: str, problem: Exception) -> None:
        record = self.host.records[plugin_id]
        self.host._fail(record, PluginFailure(plugin_id, "api", str(problem), str(record.info.entry),
                                              record.handle.hooks.get(hook, 0) if record.handle else 0, hook))


class EngineExtensions(_Points):
    """Components, asset importers, CLI commands and world commands from the running plugins."""

    def components(self) -> list[type[Component]]:
        """Component types to register in a new world's registry."""
        return [cls for _pid, declared in self._running() for cls in declared.components]

    def importers(self) -> dict[str, NamedDecl]:
        """File extension -> the importer that reads it (the first plugin in load order wins)."""
        out: dict[str, NamedDecl] = {}
        for _pid, declared in self._running():
            for decl in declared.importers:
                for extension in decl.extra("extensions", ()):
                    out.setdefault(extension, decl)
        return out

    def import_asset(self, name: str, data: bytes) -> Any:
        """JSON data from the importer for ``name``'s extension; raises PluginCommandError."""
        decl = self.importers().get(PurePosixPath(name).suffix.lower())
        if decl is None:
            suffix = PurePosixPath(name).suffix or "files without an extension"
            raise PluginCommandError(f"{name}: no plugin imports {suffix}")
        result = self.host.call(decl.plugin, "storm_import_asset", importer=decl.local, name=name, data=bytes(data))
        if self.host.records[decl.plugin].status != "running":
            raise PluginCommandError(f"{name}: importer {decl.name} failed: {self.host.records[decl.plugin].failure}")
        try:
            return JsonValue().validate(result)
        except FieldError as exc:
            self._bad_answer(decl.plugin, "storm_import_asset", exc)
            raise PluginCommandError(f"{name}: importer {decl.name} returned {exc}") from None

    def cli_commands(self) -> dict[str, NamedDecl]:
        return {decl.name: decl for _pid, declared in self._running() for decl in declared.cli}

    def run_cli(self, name: str, args: list[str]) -> tuple[int, str]:
        """Run ``<pack>:<command>``: (exit code, text to print)."""
        decl = self.cli_commands().get(name)
        if decl is None:
            return 2, f"unknown command {name!r}; plugin commands: {', '.join(sorted(self.cli_commands())) or 'none'}"
        result = self.host.call(decl.plugin, "storm_cli_run", command=decl.local, args=[str(a) for a in args])
        record = self.host.records[decl.plugin]
        if record.status != "running":
            return 1, str(record.failure)
        if isinstance(result, dict) and isinstance(result.get("code"), int) and isinstance(result.get("output", ""),
                                                                                              str):
            return int(result["code"]), str(result.get("output", ""))
        return 0, "" if result is None else str(result)[:100_000]

    def world_commands(self) -> dict[str, NamedDecl]:
        return {decl.name: decl for _pid, declared in self._running() for decl in declared.world_commands}

    def run_world_command(self, name: str, arguments: dict[str, Any], world: World) -> Command:
        """Run a plugin's world command: its arguments checked against the declaration, its engine
        commands applied as one Transaction; returns the inverse (for undo). Raises PluginCommandError."""
        decl = self.world_commands().get(name)
        if decl is None:
            known = ", ".join(self.world_commands()) or "none"
            raise PluginCommandError(f"unknown world command {name!r}; known: {known}")
        record = self.host.records[decl.plugin]
        if "world_write" not in record.info.permissions:
            raise PluginCommandError(f"{name}: plugin {decl.plugin!r} has no world_write permission")
        values = _arguments(name, decl.extra("arguments", {}), arguments)
        answer = self.host.call(decl.plugin, "storm_world_command", world, command=decl.local, arguments=values)
        if record.status != "running":
            raise PluginCommandError(f"{name}: {record.failure}")
        try:
            if not isinstance(answer, list) or len(answer) > MAX_COMMANDS:
                raise CommandError(f"{name}", f"a list of at most {MAX_COMMANDS} commands")
            steps = [command_from_json(item, f"{name}[{i}]") for i, item in enumerate(answer)]
        except CommandError as exc:
            self._bad_answer(decl.plugin, "storm_world_command", exc)
            raise PluginCommandError(f"{name}: the plugin answered {exc}") from None
        try:
            return world.apply(Transaction(name, steps))
        except CommandError as exc:
            raise PluginCommandError(str(exc)) from None


def _arguments(name: str, declared: dict[str, Any], given: Any) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise PluginCommandError(f"{name}: arguments as an object")
    unknown = [key for key in given if key not in declared]
    if unknown:
        raise PluginCommandError(f"{name}: no argument {str(unknown[0])[:60]!r}; arguments are "
                                 f"{', '.join(declared) or 'none'}")
    values = {}
    for key, decl in declared.items():
        try:
            values[key] = decl.type.to_data(decl.type.validate(given[key])) if key in given else decl.default_data
        except FieldError as exc:
            raise PluginCommandError(f"{name}: argument {key!r}: {exc}") from None
    return values


class EditorExtensions(_Points):
    """Panels, menu items and component inspectors from the running plugins, for the editor."""

    def panels(self) -> list[NamedDecl]:
        return [decl for _pid, declared in self._running() for decl in declared.panels]

    def menu_items(self) -> list[NamedDecl]:
        """Menu entries; ``decl.name`` is the action to pass to ``action``, ``decl.extra("menu")`` the menu."""
        return [decl for _pid, declared in self._running() for decl in declared.menu_items]

    def inspectors_for(self, type_name: str) -> list[str]:
        """The plugins that add an inspector section to components of ``type_name``."""
        return [pid for pid, declared in self._running() if type_name in declared.inspectors]

    def draw_panel(self, panel: str, selection: Iterable[int] = (), world: World | None = None) -> list[dict[str, Any]]:
        """The widgets of a panel (its qualified id); [] when its plugin is not running."""
        decl = next((d for d in self.panels() if d.name == panel), None)
        if decl is None:
            return []
        answer = self.host.call(decl.plugin, "storm_editor_panel", world, panel=decl.local, selection=list(selection))
        return self._widgets(decl.plugin, "storm_editor_panel", answer)

    def draw_inspectors(self, type_name: str, entity: int, values: dict[str, Any],
                        world: World | None = None) -> dict[str, list[dict[str, Any]]]:
        """Plugin id -> the widgets it adds under a component of ``type_name``."""
        out = {}
        for plugin_id in self.inspectors_for(type_name):
            answer = self.host.call(plugin_id, "storm_editor_inspector", world, component=type_name, entity=entity,
                                    values=values)
            if self.host.records[plugin_id].status == "running":
                out[plugin_id] = self._widgets(plugin_id, "storm_editor_inspector", answer)
        return out

    def action(self, action: str, selection: Iterable[int] = (), value: Any = None, world: World | None = None) -> bool:
        """A menu item or widget was used (``action`` qualified: ``pack:action``); False when no
        running plugin owns it or it failed."""
        plugin_id, _sep, local = action.partition(":")
        record = self.host.records.get(plugin_id)
        if record is None or record.status != "running" or not local:
            return False
        self.host.call(plugin_id, "storm_editor_action", world, action=local, selection=list(selection), value=value)
        return record.status == "running"

    def _widgets(self, plugin_id: str, hook: str, answer: Any) -> list[dict[str, Any]]:
        if self.host.records[plugin_id].status != "running":
            return []
        try:
            widgets = parse_widgets(answer if answer is not None else [], f"{hook}()")
        except DeclarationError as exc:
            self._bad_answer(plugin_id, hook, exc)
            return []
        _qualify_actions(widgets, plugin_id)
        return widgets


def _qualify_actions(widgets: list[dict[str, Any]], plugin_id: str) -> None:
    for widget in widgets:
        if "action" in widget:
            widget["action"] = f"{plugin_id}:{widget['action']}"
        _qualify_actions(widget.get("children", []), plugin_id)
