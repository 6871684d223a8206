"""A trusted plugin, run in the engine's own process.

The user lists the plugins they trust; those load here, with no sandbox (in-process Python cannot
be sandboxed: "run python in a sandbox, not the opposite"). They still see the world only through
``WorldAccess`` and the same permission checks as a sandboxed plugin, so a plugin behaves the
same when it moves from trusted to sandboxed. A trusted plugin that raises is stopped and
reported like any other; one that loops or eats memory takes the engine with it: that is what
trusting it means.
"""
from __future__ import annotations

import sys
from contextlib import redirect_stdout
from typing import Any

from plugins.api import PluginContext, WorldAccess
from plugins.discovery import PluginInfo
from plugins.hookspecs import HookProblem, call, check_hooks, complete, load_plugin_file, register
from plugins.reports import LineStream, PluginFailure, PluginStopped, failure_of_exception
from plugins.world_gate import WorldGate


class InProcessPlugin:
    """One trusted plugin: a module registered with its own pluggy manager."""

    sandboxed = False
    pid = 0

    @property
    def confinement(self) -> dict[str, Any]:
        """Nothing: a trusted plugin runs without a sandbox."""
        return {}

    def __init__(self, info: PluginInfo, gate: WorldGate, context: PluginContext) -> None:
        self.info = info
        self.gate = gate
        self.context = context
        self.world = WorldAccess(gate.handle)
        self.hooks: dict[str, int] = {}
        self.manager: Any = None
        self._module_name = ""
        self._stdout = LineStream(context.log_line, "info")  # print() goes to the log, as in the sandbox

    def start(self) -> None:
        """Run the plugin's file and register its hooks; raises PluginStopped."""
        info = self.info
        try:
            module = load_plugin_file(str(info.entry), info.id)
            self._module_name = module.__name__
            self.hooks = check_hooks(module)
            self.manager = register(module)
        except HookProblem as exc:
            self._forget()
            failure = PluginFailure(info.id, "api", str(exc), str(info.entry), exc.line, exc.function)
            raise PluginStopped(failure) from None
        except Exception as exc:  # noqa: BLE001 - whatever the plugin's file does at import
            self._forget()
            raise PluginStopped(failure_of_exception(info.id, exc, str(info.root), str(info.entry))) from None

    def call(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Run hook calls in order; their results. Raises PluginStopped when the plugin raises."""
        results = []
        for hook, kwargs in calls:
            if hook not in self.hooks:
                results.append(None)
                continue
            try:
                with redirect_stdout(self._stdout):
                    results.append(call(self.manager, hook, complete(hook, kwargs, self.world, self.context)))
            except Exception as exc:  # noqa: BLE001 - the plugin's failure, reported; the engine goes on
                failure = failure_of_exception(self.info.id, exc, str(self.info.root), str(self.info.entry), hook)
                self.kill()
                raise PluginStopped(failure) from None
        return results

    def stop(self, reason: str) -> PluginFailure | None:
        """Run storm_shutdown and unload the module; a failure on the way is returned."""
        failure = None
        if self.manager is not None:
            try:
                self.call([("storm_shutdown", {"reason": reason})])
            except PluginStopped as stopped:
                failure = stopped.failure
        self.kill()
        return failure

    def kill(self) -> None:
        self.manager = None
        self._forget()

    def _forget(self) -> None:
        if self._module_name:
            sys.modules.pop(self._module_name, None)
        else:
            sys.modules.pop(f"storm_plugin_{self.info.id}", None)
