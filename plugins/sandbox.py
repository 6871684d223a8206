"""A plugin in its own process: the host's side of the sandbox.

``SandboxedPlugin.start`` runs ``python -m plugins.sandbox_child`` with a socket pair, a bare
environment and its own session, sends it the folders it may read and write and its limits, and
waits for ``ready``. ``call`` sends hook calls and, until their results come back, answers the
plugin's requests through ``serve`` (the permission-checked world gate). Every message from the
child is hostile input: ``plugins.messages`` checks its shape; anything wrong stops the plugin
with a report. A call that outlives ``Limits.call_timeout`` gets SIGUSR1 (the child reports the
line it was on), then SIGKILL.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import plugins
from plugins.api import CommandRefused, PermissionDenied, RequestError
from plugins.discovery import PluginInfo
from plugins.ipc import MAX_MESSAGE, Channel, ChannelClosed, ProtocolError
from plugins.messages import MessageError, check_child_message, encode_kwargs
from plugins.reports import PluginFailure, PluginStopped

log = logging.getLogger("storm.plugins")
REPO_ROOT = Path(plugins.__file__).resolve().parent.parent
MAX_LOG_LINES_PER_CALL = 1000  # more are read and dropped: a chatty plugin cannot flood the log
SYSTEM_LIBRARIES = ("/usr/lib", "/usr/lib64", "/lib64", "/etc/ld.so.cache")
Serve = Callable[[str, dict[str, Any]], Any]
LogSink = Callable[[str, str], None]


@dataclass(frozen=True)
class Limits:
    """What a sandboxed plugin may use; the defaults suit a game, tests use smaller ones."""

    cpu_seconds_per_call: float = 2.0  # CPU time of one call (SIGXCPU past it)
    cpu_seconds_total: int = 3600  # CPU time of the process, for good (SIGKILL past it)
    memory_mb: int = 512  # address space (RLIMIT_AS); Python alone takes about 30
    call_timeout: float = 5.0  # wall time of one call, seen from the host
    start_timeout: float = 30.0  # wall time to start and load the plugin file
    stop_timeout: float = 2.0
    open_files: int = 64
    file_size_mb: int = 64
    max_message: int = MAX_MESSAGE
    max_requests_per_call: int = 100_000
    require_network_block: bool = True  # refuse to run a plugin without network when the kernel cannot block it


def runtime_folders() -> tuple[str, ...]:
    """What any Python process needs to read: the standard library, installed packages (pluggy)
    and the plugin host's own package."""
    paths = sysconfig.get_paths()
    folders = {os.path.realpath(paths[key]) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    folders.add(str(Path(plugins.__file__).resolve().parent))
    return tuple(sorted(folders))


class SandboxedPlugin:
    """One untrusted plugin running in a confined child process."""

    sandboxed = True

    def __init__(self, info: PluginInfo, limits: Limits, serve: Serve, log_sink: LogSink,
                 data_folder: Path | None) -> None:
        self.info = info
        self.limits = limits
        self.serve = serve
        self.log_sink = log_sink
        self.data_folder = data_folder
        self.hooks: dict[str, int] = {}
        self.confinement: dict[str, Any] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self.channel: Channel | None = None
        self._stderr: Any = None
        self._next_id = 0
        self._hook = ""

    @property
    def pid(self) -> int:
        return self.process.pid if self.process is not None else 0

    # -- life ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the process and load the plugin file; raises PluginStopped."""
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._stderr = tempfile.TemporaryFile()
        home = str(self.data_folder or self.info.root)
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "LC_ALL": "C.UTF-8"}
        if self.data_folder is not None:
            env["TMPDIR"] = str(self.data_folder)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-E", "-s", "-B", "-m", "plugins.sandbox_child", str(child.fileno())],
                cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr,
                pass_fds=(child.fileno(),), start_new_session=True)
        except OSError as exc:
            parent.close()
            raise PluginStopped(PluginFailure(self.info.id, "refused", f"its process could not start: {exc}",
                                              str(self.info.entry))) from None
        finally:
            child.close()
        self.channel = Channel(parent, self.limits.max_message)
        self._send({"op": "start", "plugin": self._plugin_message(), "confinement": self._confinement(),
                    "cpu_per_call": self.limits.cpu_seconds_per_call})
        ready = self._exchange(0, self.limits.start_timeout, "ready", "loading")
        self.hooks, self.confinement = ready["hooks"], ready["confinement"]
        gaps = self.confinement.get("gaps", [])
        if gaps:
            log.warning("plugin %r: the sandbox here has gaps: %s", self.info.id, "; ".join(gaps))
        if "network not blocked" in gaps and self.limits.require_network_block:
            self._stop_with(PluginFailure(self.info.id, "refused", "this kernel cannot keep it off the network "
                                          "(no Landlock TCP rules, no network namespace); trust it or grant network",
                                          str(self.info.entry)))

    def _plugin_message(self) -> dict[str, Any]:
        info = self.info
        return {"id": info.id, "version": info.version, "name": info.name, "root": str(info.root),
                "entry": str(info.entry), "permissions": list(info.permissions), "settings": info.settings,
                "data_folder": str(self.data_folder) if self.data_folder else None}

    def _confinement(self) -> dict[str, Any]:
        read = [*runtime_folders(), *SYSTEM_LIBRARIES, str(self.info.root)]
        write = [str(self.data_folder)] if self.data_folder else []
        limits = self.limits
        return {"read": read, "write": write, "network": "network" in self.info.permissions,
                "cpu_seconds": limits.cpu_seconds_total, "memory_bytes": limits.memory_mb << 20,
                "open_files": limits.open_files, "file_size_bytes": limits.file_size_mb << 20}

    def call(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Run hook calls in order in the plugin's process; their results. Raises PluginStopped."""
        if self.channel is None:
            raise PluginStopped(PluginFailure(self.info.id, "crashed", "it is not running", str(self.info.entry)))
        self._next_id += 1
        call_id = self._next_id
        self._hook = calls[-1][0] if calls else ""
        self._send({"op": "call", "id": call_id, "calls": [[hook, encode_kwargs(kw)] for hook, kw in calls]})
        results = self._exchange(call_id, self.limits.call_timeout, "result", self._hook)["results"]
        if len(results) != len(calls):
            self._stop_with(self._protocol(f"{len(calls)} results, got {len(results)}"))
        return results

    def stop(self, reason: str) -> PluginFailure | None:
        """Let the plugin run its storm_shutdown, then end the process; a failure on the way is returned."""
        failure = None
        if self.channel is not None and self.process is not None and self.process.poll() is None:
            try:
                self._send({"op": "stop", "reason": reason})
                self._exchange(0, self.limits.stop_timeout, "stopped", "storm_shutdown")
            except PluginStopped as stopped:
                failure = stopped.failure
        self.kill()
        return failure

    def kill(self) -> None:
        """End the process now (SIGKILL) and close the pipe."""
        if self.process is not None:
            if self.process.poll() is None:
                try:
                    self.process.kill()
                except ProcessLookupError:
                    pass
            self.process.wait()
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # -- the exchange loop ---------------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        assert self.channel is not None
        try:
            self.channel.send(message)
        except (ChannelClosed, OSError):
            self._stop_with(self._exit_failure())
        except ProtocolError as exc:
            raise PluginStopped(PluginFailure(self.info.id, "api", f"a hook argument could not be sent: {exc}",
                                              str(self.info.entry), hook=self._hook)) from None

    def _exchange(self, call_id: int, timeout: float, expect: str, hook: str) -> dict[str, Any]:
        """Serve the child's messages until the one ``expect``ed arrives; raises PluginStopped."""
        assert self.channel is not None
        deadline = time.monotonic() + timeout
        requests = logs = 0
        interrupted = False
        while True:
            try:
                message = check_child_message(self.channel.receive(deadline))
            except TimeoutError:
                if interrupted:
                    self._stop_with(PluginFailure(self.info.id, "timeout", f"no answer within {timeout:g} s, and none "
                                                  "after SIGUSR1 either", str(self.info.entry), hook=hook))
                interrupted, deadline = True, time.monotonic() + 1.0
                self._signal(signal.SIGUSR1)
                continue
            except ChannelClosed:
                self._stop_with(self._exit_failure(hook))
            except (ProtocolError, MessageError) as exc:
                self._stop_with(self._protocol(str(exc), hook))
            op = message["op"]
            if op == expect and (call_id == 0 or message.get("id") == call_id):
                return message
            if op == "request":
                requests += 1
                if requests > self.limits.max_requests_per_call:
                    self._stop_with(self._protocol(f"more than {self.limits.max_requests_per_call} requests in one "
                                                   "call", hook))
                self._answer(message)
            elif op == "log":
                logs += 1
                if logs <= MAX_LOG_LINES_PER_CALL:
                    self.log_sink(message["level"], message["text"])
            elif op == "violation":
                self._stop_with(PluginFailure(self.info.id, message["kind"], message["message"],
                                              message["file"] or str(self.info.entry), message["line"],
                                              message["hook"] or hook))
            elif op == "error":
                error = message["error"]
                if interrupted and error["kind"] == "timeout":
                    error["message"] = f"no answer within {timeout:g} s (an endless loop or a blocking call?)"
                self._stop_with(PluginFailure(self.info.id, error["kind"], error["message"],
                                              error["file"] or str(self.info.entry), error["line"],
                                              error["hook"] or hook, error["traceback"]))
            else:
                self._stop_with(self._protocol(f"a {expect!r} message, got {op!r}", hook))

    def _answer(self, message: dict[str, Any]) -> None:
        rid = message["rid"]
        try:
            reply: dict[str, Any] = {"op": "reply", "rid": rid, "value": self.serve(message["what"], message["args"])}
        except PermissionDenied as exc:
            reply = {"op": "reply", "rid": rid, "error": {"kind": "denied", "message": str(exc)}}
        except CommandRefused as exc:
            reply = {"op": "reply", "rid": rid, "error": {"kind": "refused", "message": str(exc)}}
        except RequestError as exc:
            reply = {"op": "reply", "rid": rid, "error": {"kind": "bad", "message": str(exc)}}
        except Exception:  # noqa: BLE001 - a host bug must not stop the engine; the plugin gets an error
            log.exception("plugin %r: the host failed to answer a %r request", self.info.id, message["what"])
            reply = {"op": "reply", "rid": rid, "error": {"kind": "bad", "message": "the host could not answer"}}
        assert self.channel is not None
        try:
            self.channel.send(reply)
        except ProtocolError:
            self._send({"op": "reply", "rid": rid, "error": {"kind": "bad", "message": (
                f"the answer is over {self.limits.max_message} bytes; ask for less (limit=...)")}})
        except (ChannelClosed, OSError):
            self._stop_with(self._exit_failure())

    # -- failures ------------------------------------------------------------------------------------
    def _signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.kill(self.process.pid, signum)
            except ProcessLookupError:
                pass

    def _stop_with(self, failure: PluginFailure) -> Any:
        self.kill()
        raise PluginStopped(failure)

    def _protocol(self, what: str, hook: str = "") -> PluginFailure:
        return PluginFailure(self.info.id, "protocol", f"expected {what}"[:1000], str(self.info.entry), hook=hook)

    def _exit_failure(self, hook: str = "") -> PluginFailure:
        code = self.process.wait() if self.process is not None else None
        if code is not None and code < 0:
            how = f"killed by {signal.Signals(-code).name}"
            if -code == signal.SIGKILL:
                how += f" (its CPU cap of {self.limits.cpu_seconds_total} s, or the system ran out of memory)"
        else:
            how = f"exit status {code}"
        tail = ""
        if self._stderr is not None:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - 2000))
            tail = self._stderr.read().decode("utf-8", "replace").strip()
        message = f"its process ended ({how})" + (f"; it printed: {tail[-500:]}" if tail else "")
        return PluginFailure(self.info.id, "crashed", message, str(self.info.entry), hook=hook, traceback=tail)
