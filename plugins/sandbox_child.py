"""The sandboxed plugin's process: ``python -m plugins.sandbox_child FD``.

It reads one ``start`` message from the socket ``FD``, confines itself (``plugins.confine``),
installs the guard (``plugins.guard``), runs the plugin's file and then answers the host's
``call`` messages by calling the plugin's hooks through pluggy, by keyword. While a hook runs,
the plugin's world and bus requests go to the host and wait for its reply. Any exception out of
the plugin, a CPU limit (SIGXCPU) or the host's deadline (SIGUSR1) ends the process after one
``error`` message naming the plugin's file and line.

This module and everything it imports stay clear of the engine (and so of Panda3D): the process
is small and starts in a fraction of a second.
"""
from __future__ import annotations

import base64
import faulthandler
import itertools
import os
import signal
import socket
import sys
from types import FrameType
from typing import Any, NoReturn

from plugins import confine
from plugins.api import CommandRefused, PermissionDenied, PluginContext, RequestError, WorldAccess
from plugins.guard import Guard
from plugins.hookspecs import HookProblem, call, check_hooks, complete, load_plugin_file, register
from plugins.ipc import Channel, ProtocolError
from plugins.reports import LineStream, PluginFailure, failure_of_exception

REPLY_ERRORS = {"denied": PermissionDenied, "refused": CommandRefused, "bad": RequestError}
MAX_LOG_LINES_PER_CALL = 200


class CPUTimeExceeded(BaseException):
    """SIGXCPU: the call used its CPU seconds (BaseException, so ``except Exception`` cannot swallow it)."""


class Interrupted(BaseException):
    """SIGUSR1: the host's deadline for the call passed."""


class Child:
    """One plugin in its sandbox."""

    def __init__(self, channel: Channel, start: dict[str, Any]) -> None:
        self.channel = channel
        plugin = start["plugin"]
        self.plugin_id: str = plugin["id"]
        self.root: str = plugin["root"]
        self.entry: str = plugin["entry"]
        self.cpu_per_call: float = float(start["cpu_per_call"])
        self.memory: int = int(start["confinement"]["memory_bytes"])
        self.spec = confine.Confinement(
            read=tuple(start["confinement"]["read"]), write=tuple(start["confinement"]["write"]),
            network=bool(start["confinement"]["network"]), cpu_seconds=int(start["confinement"]["cpu_seconds"]),
            memory_bytes=self.memory, open_files=int(start["confinement"]["open_files"]),
            file_size_bytes=int(start["confinement"]["file_size_bytes"]))
        self.context = PluginContext(plugin["id"], plugin["version"], plugin["name"], tuple(plugin["permissions"]),
                                     dict(plugin["settings"]), plugin["data_folder"], True,
                                     _request=self.request, _log=self.log)
        self.world = WorldAccess(self.request)
        self.manager: Any = None
        self.hook = ""
        self.in_call = False
        self._rids = itertools.count(1)
        self._log_lines = 0

    # -- talking to the host ------------------------------------------------------------------
    def request(self, what: str, args: dict[str, Any]) -> Any:
        if not self.in_call:
            raise RequestError("world and bus requests work only while a hook runs")
        rid = next(self._rids)
        self.channel.send({"op": "request", "rid": rid, "what": what, "args": args})
        reply = self.channel.receive()
        if reply.get("op") != "reply" or reply.get("rid") != rid:
            raise ProtocolError(f"a reply to request {rid}, got {str(reply)[:100]}")
        error = reply.get("error")
        if error is not None:
            raise REPLY_ERRORS.get(error.get("kind"), RequestError)(str(error.get("message")))
        return reply.get("value")

    def log(self, level: str, text: str) -> None:
        self._log_lines += 1
        if self._log_lines <= MAX_LOG_LINES_PER_CALL:
            self.channel.send({"op": "log", "level": level, "text": text[:2000]})

    def violation(self, kind: str, message: str, file: str, line: int) -> None:
        self.channel.send({"op": "violation", "kind": kind, "message": message, "file": file or self.entry,
                           "line": line, "hook": self.hook})

    def fail(self, failure: PluginFailure, call_id: int = 0) -> NoReturn:
        try:
            self.channel.send({"op": "error", "id": call_id, "error": failure.as_dict()})
        finally:
            os._exit(1)

    # -- signals ----------------------------------------------------------------------------------
    def _on_cpu(self, signum: int, frame: FrameType | None) -> None:
        raise CPUTimeExceeded

    def _on_deadline(self, signum: int, frame: FrameType | None) -> None:
        raise Interrupted

    def failure_of(self, exc: BaseException) -> PluginFailure:
        tb_failure = failure_of_exception(self.plugin_id, exc, self.root, self.entry, self.hook, self.memory)
        if isinstance(exc, CPUTimeExceeded):
            return PluginFailure(self.plugin_id, "cpu", f"more than {self.cpu_per_call:g} s of CPU time in one call "
                                 "(an endless loop?)", tb_failure.file, tb_failure.line, self.hook)
        if isinstance(exc, Interrupted):
            return PluginFailure(self.plugin_id, "timeout", "the host's deadline for the call passed (an endless "
                                 "loop or a blocking call?)", tb_failure.file, tb_failure.line, self.hook)
        if isinstance(exc, SystemExit):
            return PluginFailure(self.plugin_id, "raised", f"called sys.exit({exc.code!r})", tb_failure.file,
                                 tb_failure.line, self.hook)
        return tb_failure

    def _failure_or_bare(self, exc: BaseException) -> PluginFailure:
        try:
            return self.failure_of(exc)
        except MemoryError:  # too little memory left even to describe it
            return PluginFailure(self.plugin_id, "memory", "MemoryError", self.entry, 0, self.hook)

    # -- the life of the plugin -------------------------------------------------------------------
    def start(self) -> None:
        signal.signal(signal.SIGXCPU, self._on_cpu)
        signal.signal(signal.SIGUSR1, self._on_deadline)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails with EFBIG instead
        try:
            applied = confine.apply(self.spec)
        except OSError as exc:
            self.fail(PluginFailure(self.plugin_id, "refused", f"the sandbox could not be set up: {exc}", self.entry))
        Guard(self.spec.read, self.spec.write, self.spec.network, self.root, self.violation).install()
        sys.stdout = LineStream(self.log, "info")  # type: ignore[assignment]
        sys.stderr = LineStream(self.log, "warning")  # type: ignore[assignment]
        self.in_call = True
        try:
            confine.set_cpu_soft_limit(self.cpu_per_call)
            module = load_plugin_file(self.entry, self.plugin_id)
            hooks = check_hooks(module)
            self.manager = register(module)
        except HookProblem as exc:
            self.fail(PluginFailure(self.plugin_id, "api", str(exc), self.entry, exc.line, exc.function))
        except BaseException as exc:  # noqa: BLE001 - whatever the plugin's file does at import
            self.fail(self._failure_or_bare(exc))
        finally:
            self.in_call = False
        self.channel.send({"op": "ready", "hooks": hooks, "confinement": applied.as_dict()})

    def serve(self) -> None:
        while True:
            message = self.channel.receive()
            op = message.get("op")
            if op == "call":
                self.run_calls(message)
            elif op == "stop":
                self.run_calls({"id": 0, "calls": [["storm_shutdown", {"reason": message.get("reason", "")}]]},
                               reply=False)
                self.channel.send({"op": "stopped"})
                return

    def run_calls(self, message: dict[str, Any], reply: bool = True) -> None:
        call_id = message.get("id", 0)
        results = []
        self.in_call, self._log_lines = True, 0
        try:
            confine.set_cpu_soft_limit(self.cpu_per_call)
            for hook, kwargs in message["calls"]:
                self.hook = hook
                if self.manager is not None and getattr(self.manager.hook, hook).get_hookimpls():
                    results.append(call(self.manager, hook, complete(hook, _decode(kwargs), self.world, self.context)))
                else:
                    results.append(None)
        except BaseException as exc:  # noqa: BLE001 - the plugin's failure, reported and final
            self.fail(self._failure_or_bare(exc), call_id)
        finally:
            self.in_call, self.hook = False, ""
        if reply:
            self.channel.send({"op": "result", "id": call_id, "results": results})


def _decode(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments as sent, with ``{"$bytes": base64}`` values turned back into bytes."""
    out = {}
    for key, value in kwargs.items():
        if isinstance(value, dict) and set(value) == {"$bytes"}:
            value = base64.b64decode(value["$bytes"])
        out[key] = value
    return out


def main(argv: list[str]) -> int:
    sys.dont_write_bytecode = True
    faulthandler.enable()
    channel = Channel(socket.socket(fileno=int(argv[1])))
    child = Child(channel, channel.receive())
    child.start()
    try:
        child.serve()
    except ProtocolError:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

