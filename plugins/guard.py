"""The sandbox's witness: an audit hook (PEP 578) in the plugin's process that sees a plugin reach
for a file outside its folders, a socket without the network permission or a new process, and
tells the host at once, with the plugin's file and line, before the kernel refuses the call.

This is the *reporting* layer, not the boundary: code that goes around Python (ctypes, a C
extension) skips audit hooks but still meets Landlock and seccomp (``plugins.confine``), which
refuse the same things. The guard only makes the refusal a report that names the line, and it
stops the plugin even when the plugin catches the PermissionError.
"""
from __future__ import annotations

import os
import socket
import sys
from typing import Any, Callable

from plugins.reports import inside, plugin_frame_of_stack

Report = Callable[[str, str, str, int], None]  # kind, message, file, line

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PROCESS_EVENTS = ("os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system", "subprocess.Popen",
                   "os.startfile", "pty.spawn")
_NET_FAMILIES = (socket.AF_INET, socket.AF_INET6)


class Guard:
    """Checks audit events against the folders and permissions of one plugin."""

    def __init__(self, read: tuple[str, ...], write: tuple[str, ...], network: bool, root: str, report: Report) -> None:
        self.read = tuple(os.path.realpath(p) for p in read)
        self.write = tuple(os.path.realpath(p) for p in write)
        self.network = network
        self.root = root
        self.report = report
        self._busy = False

    def install(self) -> None:
        sys.addaudithook(self.audit)

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if self._busy:
            return
        if event == "open":
            self._open(args[0], args[1], args[2])
        elif event in ("os.listdir", "os.scandir"):
            self._path(args[0], False, "list the folder")
        elif event == "socket.__new__":
            family = args[1]
            if family == socket.AF_UNIX:
                self._violate("network", "tried to open a Unix socket (the sandbox allows none)")
            elif family in _NET_FAMILIES and not self.network:
                self._violate("network", "tried to open a network socket without the network permission")
        elif event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg") and not self.network:
            verb = event.split(".")[1]
            self._violate("network", f"tried to {verb} to {args[1]!r:.100} without the network permission")
        elif event in _PROCESS_EVENTS:
            self._violate("process", f"tried to start a process ({event}); sandboxed plugins may not")

    def _open(self, path: Any, mode: Any, flags: Any) -> None:
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and bool(flags & _WRITE_FLAGS))
        self._path(path, writing, "write" if writing else "read")

    def _path(self, path: Any, writing: bool, verb: str) -> None:
        if isinstance(path, int) or path is None:
            return  # an already open descriptor
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str):
            path = os.fspath(path)
        allowed = self.write if writing else self.read + self.write
        if not any(inside(path, root) for root in allowed):
            self._violate("file", f"tried to {verb} {path!r}, outside its pack and its files folder")

    def _violate(self, kind: str, message: str) -> None:
        self._busy = True
        try:
            file, line = plugin_frame_of_stack(sys._getframe(), self.root)
            self.report(kind, message, file, line)
        finally:
            self._busy = False
        raise PermissionError(f"sandbox: {message}")
