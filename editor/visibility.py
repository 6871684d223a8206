"""Hide and lock: editor state about entities, not part of the game.

A hidden entity (and everything under it) is not drawn in the editor's view and cannot be
picked; Play draws it as the game does. Hiding uses a camera bit of its own (``EDITOR_HIDDEN``):
the entity's node is hidden from that bit, and the view's camera has only that bit while editing
(a camera sees a node when any of its bits is shown) and its usual mask while Play runs; while
editing it is hidden from the shadow cameras too, so it casts no shadow in full shading. Nothing in the World changes: the world file, snapshots and the game never
see it. A locked entity (and everything under it: the parts of a locked prefab instance too) is
drawn but cannot be picked in the view, box selected or moved by a gizmo (selecting it in the
tree still works, to unlock it).

Hiding and locking are undo steps like every other change (Ctrl+Z / Ctrl+Y): the ``MarkEntities``
command, plain data addressed by entity ids, finds the open world's marks through
``world.services["editor_marks"]`` and returns the command that puts back exactly the ids it
changed. It does not change what the world file holds (``changes_file`` is false), so hiding,
locking and undoing them never make the world dirty.

The state is remembered per world file in the user's editor settings
(``<user config>/editor/world_state/<hash of the path>.json``: the file's path and the hidden and
locked ids); a new, unsaved world keeps it in memory. A broken state file is ignored with a
warning.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from panda3d.core import BitMask32, DrawMask, NodePath

from editor.settings import editor_config_dir
from engine.core.commands import Command, CommandError, need_entity
from engine.packs.json_text import atomic_write
from engine.render.point_shadows import SHADOW_CAMERAS

if TYPE_CHECKING:
    from editor.document import Document
    from engine.core.world import World

log = logging.getLogger("storm.editor")
EDITOR_HIDDEN = BitMask32.bit(27)
STATE_BYTES = 4 * 1024 * 1024
MAX_IDS = 200_000
SERVICE = "editor_marks"
MARKS = ("hidden", "locked")


def state_dir() -> Path:
    return editor_config_dir() / "world_state"


def state_path(world_file: Path) -> Path:
    key = hashlib.sha1(str(world_file.resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:20]
    return state_dir() / f"{key}.json"


def _ids(value: Any) -> set[int] | None:
    if not isinstance(value, list) or len(value) > MAX_IDS:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        return None
    return set(value)


class EditorMarks:
    """The hidden and locked entities of the open world."""

    def __init__(self) -> None:
        self.hidden: set[int] = set()
        self.locked: set[int] = set()
        self.version = 0
        self._document: "Document | None" = None
        self._world: "World | None" = None
        self._applied: set[int] = set()
        self._playing: bool | None = None  # what the camera mask was last set for
        self._game_mask: DrawMask | None = None

    # -- the open world ------------------------------------------------------------------------------
    def attach(self, document: "Document") -> None:
        """A world was opened: read its remembered state."""
        self._document, self._world = document, document.world
        document.world.services[SERVICE] = self  # where MarkEntities finds the marks
        self.hidden, self.locked, self._applied = set(), set(), set()
        path = document.path
        if path is not None:
            self._read(state_path(Path(path)))
        self.version += 1

    def _read(self, path: Path) -> None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("%s: could not be read (%s); no entity is hidden or locked", path, exc)
            return
        try:
            if len(raw) > STATE_BYTES:
                raise ValueError(f"larger than {STATE_BYTES} bytes")
            data = json.loads(raw.decode("utf-8"))
            hidden, locked = _ids(data.get("hidden", [])), _ids(data.get("locked", []))
            if hidden is None or locked is None:
                raise ValueError(f"hidden and locked: lists of at most {MAX_IDS} entity ids")
        except (ValueError, UnicodeDecodeError, AttributeError) as exc:
            log.warning("%s: not a valid editor state (%s); no entity is hidden or locked", path, exc)
            return
        self.hidden, self.locked = hidden, locked

    def _write(self) -> None:
        document = self._document
        if document is None or document.path is None:
            return
        path = state_path(Path(document.path))
        try:
            if not self.hidden and not self.locked:
                path.unlink(missing_ok=True)
                return
            atomic_write(path, json.dumps({"world": str(Path(document.path).resolve()),
                                           "hidden": sorted(self.hidden), "locked": sorted(self.locked)}) + "\n")
        except OSError as exc:
            log.warning("could not remember hidden and locked entities in %s: %s", path, exc)

    # -- changes (through MarkEntities, so they are undo steps) -------------------------------------------
    def toggle_command(self, mark: str, ids: Iterable[int]) -> "MarkEntities":
        """The command that hides (locks) these entities, or shows (unlocks) them all when all of
        them are hidden (locked) already."""
        chosen = [eid for eid in dict.fromkeys(ids) if eid]
        marks = self.hidden if mark == "hidden" else self.locked
        return MarkEntities(mark, chosen, not all(eid in marks for eid in chosen))

    def _set(self, marks: set[int], ids: list[int], on: bool) -> None:
        if not ids:
            return
        if on:
            marks.update(ids)
        else:
            marks.difference_update(ids)
        self.version += 1
        self._write()

    # -- questions ---------------------------------------------------------------------------------------
    def is_hidden(self, world: "World", eid: int) -> bool:
        """Hidden itself or under a hidden parent."""
        return self._marked(self.hidden, world, eid)

    def is_locked(self, world: "World", eid: int) -> bool:
        """Locked itself or under a locked parent."""
        return self._marked(self.locked, world, eid)

    @staticmethod
    def _marked(marks: set[int], world: "World", eid: int) -> bool:
        if not marks or not world.exists(eid):
            return False
        while eid:
            if eid in marks:
                return True
            eid = world.parent_of(eid)
        return False

    def pickable(self, world: "World", eid: int) -> bool:
        """Whether a click or a box in the view may select it (or a gizmo move it)."""
        return not self.is_locked(world, eid) and not self.is_hidden(world, eid)

    # -- drawing -----------------------------------------------------------------------------------------
    def sync(self, world: "World | None", camera: NodePath | None, playing: bool) -> None:
        """Before each draw: hide what is hidden (nodes made again by an undo too), from the view and
        from the shadow cameras, and let the view's camera (and the shadows) see hidden entities
        only while Play runs. Costs one call per hidden entity."""
        if world is None:
            return
        if world is not self._world:
            self._applied = set()
            self._world = world
        everything = EDITOR_HIDDEN | SHADOW_CAMERAS
        for eid in self._applied - self.hidden:
            if world.exists(eid):
                world.node(eid).show(everything)
        for eid in self.hidden:
            if world.exists(eid):
                node = world.node(eid)
                node.hide(EDITOR_HIDDEN)
                if playing:
                    node.show(SHADOW_CAMERAS)  # the game's shadows fall as they do without the editor
                else:
                    node.hide(SHADOW_CAMERAS)  # no shadow of a hidden entity in the editor's full shading
        self._applied = set(self.hidden)
        if camera is not None and not camera.isEmpty() and playing is not self._playing:
            node = camera.node()
            if self._game_mask is None:
                self._game_mask = DrawMask(node.getCameraMask())
            node.setCameraMask(self._game_mask if playing else EDITOR_HIDDEN)
            self._playing = playing


@dataclass
class MarkEntities(Command):
    """Hide or show (``mark`` "hidden"), lock or unlock (``mark`` "locked") entities in the editor.
    The inverse names only the ids whose mark it changed, so an undo puts back exactly what was."""

    mark: str = "hidden"
    entities: list[int] = field(default_factory=list)
    on: bool = True

    @property
    def changes_file(self) -> bool:
        return False  # editor state, remembered beside the world file, never in it

    def apply(self, world: "World") -> Command:
        marks = world.services.get(SERVICE)
        if not isinstance(marks, EditorMarks):
            raise CommandError(self, "hide and lock belong to the editor, and no editor has this world open")
        if self.mark not in MARKS:
            raise CommandError(self, f"mark is one of {', '.join(MARKS)}, not {self.mark!r:.40}")
        if not isinstance(self.on, bool):
            raise CommandError(self, f"on is true or false, not {self.on!r:.40}")
        if not isinstance(self.entities, list) or len(self.entities) > MAX_IDS:
            raise CommandError(self, f"entities: a list of at most {MAX_IDS} entity ids")
        ids = [need_entity(world, eid, self) for eid in dict.fromkeys(self.entities)]
        chosen = marks.hidden if self.mark == "hidden" else marks.locked
        changed = [eid for eid in ids if (eid in chosen) != self.on]
        marks._set(chosen, changed, self.on)
        return MarkEntities(self.mark, changed, not self.on)
