"""Reports of plugins that failed: which plugin, which file and line, what happened.

Modders' most common complaint is an error that does not name the mod, the file or the line;
every way a plugin can fail ends in one ``PluginFailure`` that names all three. For an exception
the line is the last frame of the traceback inside the plugin's pack, not the engine's frame
that called it. This module imports nothing of the engine: the sandbox's process uses it too.
"""
from __future__ import annotations

import os
import traceback
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any, Callable

# kind -> how a report says it
KINDS = {
    "raised": "raised",
    "cpu": "used too much CPU time",
    "timeout": "did not answer in time",
    "memory": "ran out of memory",
    "file": "reached for a file outside its folders",
    "network": "used the network without the network permission",
    "process": "tried to start a process",
    "protocol": "broke the plugin protocol",
    "crashed": "exited unexpectedly",
    "load": "could not be loaded",
    "api": "broke the plugin API",
    "refused": "was not started",
}
MAX_TRACEBACK = 8000


@dataclass(frozen=True)
class PluginFailure:
    """One plugin stopped (or never started): ``str()`` is the sentence shown to the person."""

    plugin: str
    kind: str
    message: str
    file: str = ""
    line: int = 0
    hook: str = ""
    traceback: str = ""

    def __str__(self) -> str:
        where = f" in {self.hook}" if self.hook else ""
        place = f" ({self.file}, line {self.line})" if self.file and self.line else (
            f" ({self.file})" if self.file else "")
        return f"plugin {self.plugin!r} {KINDS.get(self.kind, self.kind)}{where}{place}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "file": self.file, "line": self.line, "hook": self.hook,
                "traceback": self.traceback}


class PluginStopped(Exception):
    """The plugin failed and was stopped: ``failure`` says how, where and why."""

    def __init__(self, failure: PluginFailure) -> None:
        self.failure = failure
        super().__init__(str(failure))


class LineStream:
    """A plugin's ``print`` output: whole lines go to ``sink(level, line)`` (the host's log)."""

    def __init__(self, sink: Callable[[str, str], None], level: str) -> None:
        self.sink, self.level, self._partial = sink, level, ""

    def write(self, text: str) -> int:
        self._partial += str(text)
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            self.sink(self.level, line)
        if len(self._partial) > 2000:
            self.sink(self.level, self._partial)
            self._partial = ""
        return len(text)

    def flush(self) -> None:
        pass


def inside(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or below it (both made absolute and resolved)."""
    try:
        full, base = os.path.realpath(path), os.path.realpath(root)
    except (OSError, ValueError):
        return False
    return full == base or full.startswith(base.rstrip(os.sep) + os.sep)


def plugin_frame_of_traceback(tb: TracebackType | None, root: str) -> tuple[str, int]:
    """(file, line) of the innermost traceback frame inside ``root``, or ("", 0)."""
    found = ("", 0)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if inside(filename, root):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def plugin_frame_of_stack(frame: FrameType | None, root: str) -> tuple[str, int]:
    """(file, line) of the innermost frame inside ``root`` on a running stack, or ("", 0)."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if inside(filename, root):
            return filename, frame.f_lineno
        frame = frame.f_back
    return "", 0


def describe_exception(exc: BaseException) -> str:
    """``ZeroDivisionError: division by zero``, bounded in length."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text if len(text) <= 1000 else text[:997] + "..."


def failure_of_exception(plugin: str, exc: BaseException, root: str, entry: str, hook: str = "",
                         memory_limit: int = 0) -> PluginFailure:
    """The report for an exception out of a plugin's code (a raise, a MemoryError, a SyntaxError)."""
    file, line = plugin_frame_of_traceback(exc.__traceback__, root)
    if isinstance(exc, SyntaxError) and exc.filename and inside(exc.filename, root):
        file, line = exc.filename, exc.lineno or 0
    traceback.clear_frames(exc.__traceback__)  # let go of the plugin's locals (what ate the memory)
    if isinstance(exc, MemoryError):
        limit = f" (its limit is {memory_limit >> 20} MiB)" if memory_limit else ""
        return PluginFailure(plugin, "memory", f"MemoryError{limit}", file or entry, line, hook)
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-MAX_TRACEBACK:]
    kind = "load" if hook == "" else "raised"
    return PluginFailure(plugin, kind, describe_exception(exc), file or entry, line, hook, text)
