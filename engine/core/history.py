"""Undo and redo: a History applies commands to a World and keeps named steps.

Each step holds the command that undoes it. Undo applies that and keeps what comes back (the
command that redoes it), so redo recreates exactly what undo removed, ids included. Continuous
edits (a drag, a slider) merge into one step when they edit the same thing under the same
merge key; ``end_merge`` (mouse released) closes the step.

``dirty`` compares states, not stack heights: each step leads from one state to another, a step
whose command does not change what the world file holds (``Command.changes_file`` false: the
editor's hide and lock) leads back to the same state, so undoing or redoing it never makes the
world dirty or clean.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.core.commands import Command

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.history")


@dataclass
class Step:
    """One undoable step: its name, what undoes it, and the last command done in it."""

    name: str
    undo: Command
    redo: Command
    merge_key: str = ""
    before: int = 0  # the state the step starts from and the one it leads to (see ``History.dirty``)
    after: int = 0


class History:
    """Undo/redo over one World; ``dirty`` says whether it differs from what was last saved."""

    def __init__(self, world: "World", limit: int = 1000) -> None:
        self.world = world
        self.limit = limit
        self._undo: list[Step] = []
        self._redo: list[Step] = []
        self._open_merge = ""
        self._state = 0        # the state the world is in now (a number no other state has)
        self._states = 0       # the last number handed out
        self._saved: int | None = 0  # the state last saved; None: nothing is
        self.message = ""

    def _next_state(self, command: Command) -> int:
        """The state after ``command``: a new one, or the same when it leaves the file as it was."""
        if not command.changes_file:
            return self._state
        self._states += 1
        return self._states

    def do(self, command: Command, name: str = "", merge: str = "") -> Command:
        """Apply a command as a new step (or fold it into the open step with the same ``merge``
        key); returns its inverse. A refused command raises CommandError and records nothing."""
        inverse = self.world.apply(command)
        label = name or str(command)
        last = self._undo[-1] if self._undo else None
        if (merge and last is not None and not self._redo and last.merge_key == merge
                and self._open_merge == merge and last.redo.merges_with(command)):
            last.redo, last.name = command, label
            last.after = self._state = self._next_state(command)
        else:
            before = self._state
            self._state = self._next_state(command)
            self._push(Step(label, inverse, command, merge, before, self._state))
        self._open_merge = merge
        self._redo.clear()
        self.message = f"did {label}"
        return inverse

    def record(self, name: str, undo: Command, redo: Command) -> None:
        """Add a step for an edit already applied to the world by someone else (a plugin applying
        its own commands): ``undo`` takes it back, ``redo`` does it again."""
        before = self._state
        self._state = self._next_state(redo)
        self._push(Step(name, undo, redo, "", before, self._state))
        self._open_merge = ""
        self._redo.clear()
        self.message = f"did {name}"

    def _push(self, step: Step) -> None:
        self._undo.append(step)
        if len(self._undo) > self.limit:
            del self._undo[0]

    def end_merge(self) -> None:
        """Close the open merge step: the next command starts a step of its own."""
        self._open_merge = ""

    def undo(self) -> str | None:
        """Undo the last step; returns its name, or None (and says so) when there is nothing to undo."""
        self._open_merge = ""
        if not self._undo:
            self.message = "nothing to undo"
            log.info("nothing to undo")
            return None
        step = self._undo[-1]
        redo = self.world.apply(step.undo)
        self._undo.pop()
        self._redo.append(Step(step.name, step.undo, redo, step.merge_key, step.before, step.after))
        self._state = step.before
        self.message = f"undid {step.name}"
        return step.name

    def redo(self) -> str | None:
        """Redo the last undone step; returns its name, or None (and says so) when there is none."""
        self._open_merge = ""
        if not self._redo:
            self.message = "nothing to redo"
            log.info("nothing to redo")
            return None
        step = self._redo[-1]
        undo = self.world.apply(step.redo)
        self._redo.pop()
        self._undo.append(Step(step.name, undo, step.redo, step.merge_key, step.before, step.after))
        self._state = step.after
        self.message = f"redid {step.name}"
        return step.name

    def mark_saved(self) -> None:
        """The world as it is now was saved: not dirty until the next change."""
        self._saved = self._state

    @property
    def dirty(self) -> bool:
        return self._saved != self._state

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo_names(self) -> list[str]:
        """Names of the steps that can be undone, oldest first."""
        return [step.name for step in self._undo]

    def redo_names(self) -> list[str]:
        """Names of the steps that can be redone, next first."""
        return [step.name for step in reversed(self._redo)]

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self._open_merge = ""
        self._saved = None
