"""The plugin host: finds plugins in the enabled packs, runs each trusted one in process and every
other one in its sandbox, calls their hooks through the tick, and keeps the engine running when
one fails.

    host = PluginHost(packs, trusted={"my_tools"})   # packs: (root, manifest) pairs in load order
    host.install(runtime)                            # a "plugins" system in every world from now on
    host.start()                                     # load, read declarations, storm_init
    world = runtime.new_world()                      # has the plugins' systems and components
    world.tick()                                     # events, storm_update, plugin systems
    host.reload_changed()                            # restart the plugins whose files changed
                                                     # (or PluginHost(..., watch_seconds=1.0))
    host.stop()                                      # storm_shutdown, processes end

A failing plugin (it raised, looped, ate memory, reached outside its folders, broke the protocol)
is stopped alone: ``host.failures`` and the log say which plugin, file and line; everything
else goes on. Editing its file restarts it (``reload_changed``). Extension points: ``host.engine``
(components, importers, CLI and world commands) and ``host.editor`` (panels, menus, inspectors).

Start plugins from a thread that lives as long as the host (the main thread): a sandboxed
plugin's process ends with the thread that started it (``PR_SET_PDEATHSIG``), so that no plugin
outlives a crashed engine.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from engine.core.errors import StormError
from engine.core.system import ORDER_SCRIPTS, System
from engine.core.world import World
from engine.packs.locations import storm_home
from engine.packs.manifest import PackManifest, read_manifest
from plugins.api import PluginContext
from plugins.bridge import WorldBridge
from plugins.declarations import DeclarationError, SystemDecl
from plugins.discovery import PluginInfo, discover
from plugins.events import DEFAULT_CAPACITY, PluginEventBus
from plugins.extensions import Declared, EditorExtensions, EngineExtensions, read_declarations
from plugins.hookspecs import DECLARATION_HOOKS
from plugins.inprocess import InProcessPlugin
from plugins.reports import PluginFailure, PluginStopped
from plugins.sandbox import Limits, SandboxedPlugin
from plugins.world_gate import WorldGate

if TYPE_CHECKING:
    from engine.host.runtime import Runtime

log = logging.getLogger("storm.plugins")
ORDER_PLUGINS = ORDER_SCRIPTS + 20  # plugins' storm_update: after behaviour scripts, before AI and physics
MAX_BATCH_BYTES = 256 * 1024
Call = tuple[str, dict[str, Any]]  # (hook name, keyword arguments)


def default_data_root() -> Path:
    """Where packs' ``files`` folders live: ``pack-data`` in the player's Storm folder."""
    return storm_home() / "pack-data"


@dataclass
class PluginRecord:
    """One plugin's state in the host."""

    info: PluginInfo
    status: str = "new"  # new, running, failed, stopped
    handle: InProcessPlugin | SandboxedPlugin | None = None
    gate: WorldGate | None = None
    failure: PluginFailure | None = None
    declared: Declared = field(default_factory=Declared)
    fingerprint: str = ""


class PluginHostSystem(System):
    """The host's row in the tick: delivers events and calls every plugin's storm_update."""

    name = "plugins"
    order = ORDER_PLUGINS

    def __init__(self, host: "PluginHost") -> None:
        self.host = host

    def attach(self, world: World) -> None:
        self.host.attach(world)

    def detach(self, world: World) -> None:
        self.host.detach(world)

    def update(self, world: World, dt: float) -> None:
        self.host.tick(world, dt)


class PluginSystem(System):
    """A system a plugin declared (``storm_systems``): each tick it calls ``storm_system_update``."""

    def __init__(self, host: "PluginHost", plugin: str, decl: SystemDecl) -> None:
        self.host, self.plugin, self.local, self.name = host, plugin, decl.local, decl.name  # type: ignore[misc]

    def update(self, world: World, dt: float) -> None:
        self.host.call(self.plugin, "storm_system_update", world, system=self.local, dt=dt, tick=world.tick_count)


class PluginHost:
    """Runs the plugins of a set of packs (see the module docstring)."""

    def __init__(self, packs: Iterable[tuple[Path, PackManifest]], *, trusted: Iterable[str] = (),
                 limits: Limits | None = None, data_root: Path | None = None,
                 event_capacity: int = DEFAULT_CAPACITY, watch_seconds: float | None = None,
                 settings: dict[str, dict[str, Any]] | None = None) -> None:
        self.limits = limits or Limits()
        self.watch_seconds = watch_seconds  # world seconds between looks for changed plugin files (None: never)
        self.data_root = data_root or default_data_root()
        self.trusted = frozenset(trusted)
        self.bus = PluginEventBus(event_capacity)
        infos, refused = discover(packs, self.trusted, settings)
        self.records: dict[str, PluginRecord] = {info.id: PluginRecord(info) for info in infos}
        self.failures: list[PluginFailure] = []
        for failure in refused:
            self._report(failure)
        self.engine = EngineExtensions(self)
        self.editor = EditorExtensions(self)
        self._runtime: Runtime | None = None
        self._system_rows: set[str] = set()
        self._bridges: dict[int, WorldBridge] = {}
        self._worlds: list[World] = []
        self._watched: dict[int, float] = {}  # id(world) -> world time of the last look for changes
        self._current: World | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def install(self, runtime: "Runtime") -> None:
        """Give every world the runtime makes from now on the host's system, the plugins' systems
        (``Runtime.add_system``) and their component types."""
        self._runtime = runtime
        runtime.add_system(self._host_system, ORDER_PLUGINS, profiles=runtime.profiles(), name="plugins")
        self._add_system_rows()

    def _host_system(self, runtime: "Runtime", world: World) -> System:
        for cls in self.engine.components():
            world.registry.register(cls)
        return PluginHostSystem(self)

    def start(self) -> None:
        """Start every plugin not running yet (in load order); failures are reported, not raised."""
        for record in self.records.values():
            if record.status in ("new", "stopped"):
                self._start(record)

    def stop(self, reason: str = "shutdown") -> None:
        """Stop every running plugin (storm_shutdown first)."""
        for record in reversed(list(self.records.values())):
            self._stop(record, reason)

    def running(self) -> list[str]:
        return [pid for pid, record in self.records.items() if record.status == "running"]

    def status(self) -> list[dict[str, Any]]:
        """One row per plugin: id, trusted, status, process id, sandbox facts, failure (text)."""
        return [{"id": r.info.id, "trusted": r.info.trusted, "status": r.status,
                 "pid": r.handle.pid if r.handle is not None else 0,
                 "confinement": dict(r.handle.confinement) if r.handle is not None else {},
                 "failure": str(r.failure) if r.failure else None} for r in self.records.values()]

    def restart(self, plugin_id: str) -> bool:
        """Stop one plugin, read its manifest again and start it; True when it runs again."""
        record = self.records[plugin_id]
        self._stop(record, "reload")
        try:
            manifest = read_manifest(record.info.root)
        except StormError as exc:
            self._fail(record, PluginFailure(plugin_id, "refused", str(exc), str(record.info.root)))
            return False
        infos, refused = discover([(record.info.root, manifest)], self.trusted)
        if refused or not infos:
            self._fail(record, refused[0] if refused else PluginFailure(plugin_id, "refused", "no longer a plugin"))
            return False
        record.info = infos[0]
        self._start(record)
        return record.status == "running"

    def reload_changed(self) -> list[str]:
        """Restart each plugin whose code or manifest changed since it started (a failed one too,
        so fixing the file brings it back); the others keep running. Returns the ids restarted."""
        changed = [pid for pid, r in self.records.items() if r.fingerprint and r.info.fingerprint() != r.fingerprint]
        for plugin_id in changed:
            self.restart(plugin_id)
        return changed

    def _start(self, record: PluginRecord) -> None:
        info = record.info
        record.fingerprint = info.fingerprint()
        record.failure = None
        data_folder = self._data_folder(info)
        gate = WorldGate(info.id, info.permissions, lambda: self._current, self.bus)
        record.gate = gate
        plugin_log = logging.getLogger(f"storm.plugin.{info.id}")

        def log_line(level: str, text: str) -> None:
            plugin_log.log(logging.getLevelName(level.upper()), "%s", text)

        if info.trusted:
            context = PluginContext(info.id, info.version, info.name, info.permissions, info.settings,
                                    str(data_folder) if data_folder else None, False, _request=gate.handle,
                                    _log=log_line)
            record.handle = InProcessPlugin(info, gate, context)
        else:
            record.handle = SandboxedPlugin(info, self.limits, gate.handle, log_line, data_folder)
        try:
            record.handle.start()
            hooks = [h for h in DECLARATION_HOOKS if h in record.handle.hooks]
            answers = dict(zip(hooks, record.handle.call([(h, {}) for h in hooks]))) if hooks else {}
            record.declared = read_declarations(info, answers, self.bus)
            self.bus.subscribe(info.id, record.declared.subscriptions)
            record.status = "running"
            if "storm_init" in record.handle.hooks:
                record.handle.call([("storm_init", {})])
        except PluginStopped as stopped:
            self._fail(record, stopped.failure)
            return
        except DeclarationError as exc:
            hook = str(exc).split("(", 1)[0]
            line = record.handle.hooks.get(hook, 0)
            self._fail(record, PluginFailure(info.id, "api", str(exc), str(info.entry), line, hook))
            return
        log.info("plugin %r started (%s)", info.id, "trusted, in process" if info.trusted
                 else f"sandboxed, pid {record.handle.pid}")
        self._add_system_rows()
        for bridge in self._bridges.values():
            bridge.update()

    def _data_folder(self, info: PluginInfo) -> Path | None:
        permission = info.manifest.permissions.get("files")
        if permission is None:
            return None
        folder = (self.data_root / info.id / permission.folder).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _stop(self, record: PluginRecord, reason: str) -> None:
        if record.status == "running" and record.handle is not None:
            failure = record.handle.stop(reason)
            if failure is not None:
                self._report(failure)
        elif record.handle is not None:
            record.handle.kill()
        if record.status == "running":
            record.status = "stopped"
        self._forget(record)

    def _forget(self, record: PluginRecord) -> None:
        self.bus.unsubscribe(record.info.id)
        self.bus.forget(record.info.id)

    def _fail(self, record: PluginRecord, failure: PluginFailure) -> None:
        if record.handle is not None:
            record.handle.kill()
        record.status, record.failure = "failed", failure
        self._forget(record)
        self._report(failure)

    def _report(self, failure: PluginFailure) -> None:
        self.failures.append(failure)
        log.error("%s; it was stopped, the engine goes on", failure)

    # -- worlds and the tick ----------------------------------------------------------------------
    def attach(self, world: World) -> None:
        """Run the plugins in ``world`` too (the host system does this when it joins a world)."""
        if world not in self._worlds:
            self._worlds.append(world)
            bridge = self._bridges[id(world)] = WorldBridge(world, self.bus)
            bridge.update()
            self._watched[id(world)] = world.time

    def detach(self, world: World) -> None:
        if world in self._worlds:
            self._worlds.remove(world)
            self._bridges.pop(id(world)).close()
            self._watched.pop(id(world), None)

    def _add_system_rows(self) -> None:
        if self._runtime is None:
            return
        for record in self.records.values():
            for decl in record.declared.systems:
                if decl.name not in self._system_rows:
                    self._system_rows.add(decl.name)
                    self._runtime.add_system(self._system_factory(record.info.id, decl), decl.order,
                                             profiles=decl.profiles, name=decl.name)

    def _system_factory(self, plugin: str, decl: SystemDecl) -> Any:
        def build(runtime: "Runtime", world: World) -> System:
            return PluginSystem(self, plugin, decl)

        return build

    def tick(self, world: World, dt: float) -> None:
        """Restart changed plugins (every ``watch_seconds`` of world time), then deliver each
        running plugin's queued events and call its storm_update."""
        if self.watch_seconds is not None and world.time - self._watched.get(id(world), 0.0) >= self.watch_seconds:
            self._watched[id(world)] = world.time
            self.reload_changed()
        for plugin_id, record in list(self.records.items()):
            if record.status != "running" or record.handle is None:
                continue
            calls: list[tuple[Call, int]] = [
                (("storm_event", {"type": e.type, "data": e.data, "source": e.source}), e.size + 100)
                for e in self.bus.drain(plugin_id)] if record.declared.subscriptions else []
            if "storm_update" in record.handle.hooks:
                calls.append((("storm_update", {"dt": dt, "tick": world.tick_count}), 100))
            for batch in _batches(calls):
                if self.call_many(plugin_id, batch, world) is None:
                    break

    @contextmanager
    def using(self, world: World | None) -> Iterator[None]:
        """Make ``world`` the one plugins' requests address for the duration."""
        previous, self._current = self._current, world if world is not None else self._current
        try:
            yield
        finally:
            self._current = previous

    def call(self, plugin_id: str, hook: str, world: World | None = None, **kwargs: Any) -> Any:
        """Call one hook of one plugin (None when it is not running or does not have the hook)."""
        results = self.call_many(plugin_id, [(hook, kwargs)], world)
        return results[0] if results else None

    def call_many(self, plugin_id: str, calls: list[tuple[str, dict[str, Any]]],
                  world: World | None = None) -> list[Any] | None:
        """Call hooks of one plugin in one exchange; None (and a report) when it failed."""
        record = self.records.get(plugin_id)
        if record is None or record.status != "running" or record.handle is None:
            return None
        calls = [(hook, kw) for hook, kw in calls if hook in record.handle.hooks]
        if not calls:
            return []
        try:
            with self.using(world if world is not None else (self._worlds[0] if self._worlds else None)):
                return record.handle.call(calls)
        except PluginStopped as stopped:
            self._fail(record, stopped.failure)
            return None



def _batches(calls: list[tuple[Call, int]]) -> Iterator[list[Call]]:
    """Calls (with their size in bytes) split so that no message nears the pipe's size limit."""
    batch: list[Call] = []
    size = 0
    for (hook, kwargs), cost in calls:
        if batch and size + cost > MAX_BATCH_BYTES:
            yield batch
            batch, size = [], 0
        batch.append((hook, kwargs))
        size += cost
    if batch:
        yield batch
