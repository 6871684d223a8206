"""The open world: its file, the World, the History of edits, and a counter that grows with each
change so panels know when to refresh.

Every edit the editor makes goes through ``Document.do`` (and undo/redo through the History), so
the World changes only through commands and every change is undoable. Files are read with the
engine's loader (``read_world``: a broken file raises one StormError naming the file, the path
inside it and what was expected) and written atomically in the canonical layout (``save_world``).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from engine.core.commands import Command, Transaction
from engine.core.history import History
from engine.data.world_file import read_world, save_world
from engine.host.starter_world import starter_world

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.host.runtime import Runtime

log = logging.getLogger("storm.editor")
UNTITLED = "untitled"


class Document:
    """One world being edited. ``path`` is None until the world has a file.

    Another kind of document may be ``read_only`` (the reason every edit is refused, '' when it can
    be edited) and ``live`` (its World runs by itself each editor frame: ``tick``), as a visited
    OpenSimulator region is (``visit_document.py``)."""

    read_only = ""
    live = False

    def __init__(self, world: "World", path: Path | None) -> None:
        self.world = world
        self.path = path
        self.history = History(world)
        self.version = 0  # grows with every change (edit, undo, redo, save, recovery)
        self.listeners: list[Callable[["Document"], None]] = []

    # -- making one -------------------------------------------------------------------------------
    @classmethod
    def new(cls, runtime: "Runtime", name: str = UNTITLED) -> "Document":
        """A small lit starter world (``main.py new-world`` writes the same) with no file yet."""
        return cls(starter_world(runtime, name), None)

    @classmethod
    def open(cls, runtime: "Runtime", path: Path | str) -> "Document":
        """Load a world file; raises StormError (the loader's message) and changes nothing when it is broken."""
        target = Path(path)
        return cls(read_world(target, runtime), target.resolve())

    # -- edits ------------------------------------------------------------------------------------
    def do(self, command: Command, name: str = "", merge: str = "") -> Command:
        """Apply a command as one undoable step; a refused command raises CommandError, changing nothing."""
        inverse = self.history.do(command, name, merge)
        self.changed()
        return inverse

    def record_applied(self, name: str, applied: list[tuple[Command, Command]]) -> None:
        """Commands someone else already applied to the world (a plugin's action), as (command,
        inverse) pairs in the order applied, become one undoable step."""
        undo = Transaction(name, [inverse for _command, inverse in reversed(applied)])
        self.history.record(name, undo, Transaction(name, [command for command, _inverse in applied]))
        self.changed()

    def undo(self) -> str | None:
        name = self.history.undo()
        if name is not None:
            self.changed()
        return name

    def redo(self) -> str | None:
        name = self.history.redo()
        if name is not None:
            self.changed()
        return name

    def tick(self, seconds: float) -> str:
        """A live document's World runs ``seconds`` (each editor frame); returns news for the status bar."""
        return ""

    def changed(self) -> None:
        """Something about the document changed: panels, title and the view refresh."""
        self.version += 1
        for listener in list(self.listeners):
            listener(self)

    # -- files --------------------------------------------------------------------------------------
    def save(self, path: Path | str | None = None) -> Path:
        """Write the world (to ``path``, which becomes the document's file, or to its own file)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("this world has no file yet: save it with a path (Save As)")
        prefabs = self.world.services.get("prefabs")
        if self.world.prefab_edits and prefabs is not None:  # values applied to prefabs go into their files
            for written in prefabs.write_edits(self.world):
                log.info("wrote the applied prefab changes to %s", written)
        save_world(self.world, target)
        self.path = target.resolve()
        self.history.mark_saved()
        self.changed()
        log.info("saved %s", self.path)
        return self.path

    def mark_unsaved(self) -> None:
        """The world in memory is not what its file holds (a recovered autosave)."""
        self.history.clear()
        self.changed()

    @property
    def dirty(self) -> bool:
        return self.history.dirty

    @property
    def display_name(self) -> str:
        return self.path.name if self.path is not None else f"{self.world.name or UNTITLED} (not saved yet)"

    def title(self) -> str:
        """The window title: a ``*`` marks unsaved changes."""
        return f"{'*' if self.dirty else ''}{self.display_name} - Storm editor"

    def release(self) -> None:
        """The editor quits with this document open: let go of what it holds outside the editor
        (a visit logs out); the World itself is left to the process's end."""

    def close(self) -> None:
        self.listeners.clear()
        self.world.close()
