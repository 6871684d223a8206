"""The scene tree's structural edits, each one command (one undo step): reparent (a drop in the
tree, the world transform kept), group (Ctrl+G: a new empty parent at the selection's centre),
copy and paste (Ctrl+C / Ctrl+V, Ctrl+Shift+V), and hide / lock (editor state kept beside the world
file, but undo steps all the same: ``visibility.MarkEntities``).

The clipboard holds plain data: the copied subtrees as entity records (``copy_records``, JSON
types only), each root's transform replaced by its transform in the world, so it outlives the
world it came from and pastes into the next one opened in the same editor. Paste is the engine's
``Paste`` command: fresh ids, and references inside the pasted subtrees remapped by the one
mapper (``entity_specs.remap_specs``) to point at the copies. References to entities outside the
copy stay as they were when pasting into the world the copy came from, and are cleared (0) in any
other world, where those ids name other entities (through the field types' own ``remap``).
Ctrl+V pastes as children of the selected entity (the primary one), Ctrl+Shift+V beside it (under
its parent), and with nothing selected at the top level; as Godot's scene tree does ("Paste" and
"Paste as Sibling"). Either way each pasted root keeps where its original was in the world: its
world transform is turned into one local to the new parent.
"""
from __future__ import annotations

import json
import logging
import weakref
from typing import TYPE_CHECKING, Any

from panda3d.core import Point3, TransformState

from editor.gizmo_geometry import outermost
from engine.core.commands import Command, Transaction
from engine.core.edit_commands import CreateEntity, DestroyEntity, Paste, Reparent, copy_records
from engine.core.fields import f32

if TYPE_CHECKING:
    from editor.session import Session
    from engine.core.world import World

GROUP_NAME = "Group"


def _vec(v: Any) -> list[float]:
    return [f32(round(v[0], 5)) + 0.0, f32(round(v[1], 5)) + 0.0, f32(round(v[2], 5)) + 0.0]


class Clipboard:
    """Copied entity subtrees as plain data (JSON types), independent of any World."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.source = ""  # the name of the world they came from
        self._world: "weakref.ref[World] | None" = None

    def __bool__(self) -> bool:
        return bool(self.records)

    def copy(self, world: "World", ids: list[int]) -> int:
        """Copy these entities (with their subtrees); returns how many roots were copied."""
        roots = outermost(world, [eid for eid in ids if world.exists(eid)])
        records: list[dict[str, Any]] = []
        for root in roots:
            subtree = copy_records(world, root)
            node = world.node(root)
            subtree[0]["transform"] = {"pos": _vec(node.getPos(world.root)), "hpr": _vec(node.getHpr(world.root)),
                                       "scale": _vec(node.getScale(world.root))}
            subtree[0]["parent"] = 0
            records.extend(subtree)
        if records:
            self.records = json.loads(json.dumps(records))  # plain data, nothing shared with the World
            self.source = world.name
            self._world = weakref.ref(world)
        return len(roots)

    def paste_command(self, world: "World", parent: int = 0) -> Paste:
        """The paste into ``world`` under ``parent`` (0: the top level), each root where its
        original was in the world; outside references cleared unless it is the world copied from."""
        records = json.loads(json.dumps(self.records))
        if parent and world.exists(parent):
            into = world.node(parent).getTransform(world.root)
            for record in records:
                if record.get("parent") == 0 and isinstance(record.get("transform"), dict):
                    record["transform"] = _local_to(into, record["transform"])
        if self._world is None or self._world() is not world:
            inside = {record.get("id") for record in records}
            for record in records:
                for pair in record.get("components", []):
                    cls = world.registry.get(pair[0]) if isinstance(pair, list) and len(pair) == 2 else None
                    values = pair[1] if cls is not None else None
                    if not isinstance(values, dict):
                        continue
                    for name in cls.entity_ref_fields:
                        value = values.get(name)
                        if isinstance(value, int) and value not in inside:
                            values[name] = cls.fields[name].type.remap(value, {value: 0})
        return Paste(records, parent)


def _local_to(parent: TransformState, placed: dict[str, Any]) -> dict[str, Any]:
    """A transform given in the world (pos/hpr/scale data) as one local to a parent placed at ``parent``."""
    try:
        placed_at = TransformState.makePosHprScale(tuple(placed["pos"]), tuple(placed["hpr"]), tuple(placed["scale"]))
    except (KeyError, TypeError, ValueError):
        return placed  # not what copy() writes: Paste's own checks say what is wrong with it
    local = parent.invertCompose(placed_at)
    return {"pos": _vec(local.getPos()), "hpr": _vec(local.getHpr()), "scale": _vec(local.getScale())}


def created_roots(inverse: Command) -> list[int]:
    """The root entities a create (or paste) made, from its inverse."""
    steps = inverse.commands if isinstance(inverse, Transaction) else [inverse]
    return [step.entity for step in reversed(steps) if isinstance(step, DestroyEntity)]


def cycle_reason(world: "World", ids: list[int], parent: int) -> str:
    """Why putting ``ids`` under ``parent`` would make a cycle ('' when it would not): one walk up
    from ``parent``, whatever the number of ids."""
    if not parent:
        return ""
    chosen = set(ids)
    above = parent
    while above:
        if above in chosen:
            inside = "the entity itself" if above == parent else "inside"
            return (f"{world.name_of(parent) or parent!r} is {inside} {world.name_of(above) or above!r}: "
                    "an entity cannot go under itself or its own children")
        above = world.parent_of(above)
    return ""


def reparent_command(world: "World", ids: list[int], parent: int) -> Command | None:
    """One command putting the outermost of ``ids`` under ``parent`` (0: the top level), each
    keeping where it is in the world; None when nothing would change."""
    steps: list[Command] = [Reparent(eid, parent, keep_world=True)
                            for eid in outermost(world, [e for e in ids if world.exists(e)])
                            if world.parent_of(eid) != parent]
    if not steps:
        return None
    return steps[0] if len(steps) == 1 else Transaction(f"reparent {len(steps)} entities", steps)


def group_command(world: "World", ids: list[int], name: str = GROUP_NAME) -> tuple[Command, int]:
    """A new empty entity at the centre of the entities' origins (under their common parent, or the
    top level), with the entities moved under it keeping their world transforms; and its id."""
    roots = outermost(world, [eid for eid in ids if world.exists(eid)])
    parents = {world.parent_of(eid) for eid in roots}
    parent = parents.pop() if len(parents) == 1 else 0
    centre = Point3(0, 0, 0)
    for eid in roots:
        centre += world.node(eid).getPos(world.root)
    centre /= max(len(roots), 1)
    local = world.node(parent).getRelativePoint(world.root, centre) if parent else centre
    group = world.next_id()
    create = CreateEntity.new(name, parent, {}, {"pos": _vec(local)}, entity=group)
    moves: list[Command] = [Reparent(eid, group, keep_world=True) for eid in roots]
    return Transaction(f"group {len(roots)} entities", [create, *moves]), group


class TreeEdits:
    """The structural edits on the session's selection (menus, shortcuts, the tree, scripts)."""

    def __init__(self, session: "Session") -> None:
        self.session = session
        self.clipboard = Clipboard()

    def _selected(self) -> list[int]:
        from editor.session import EditRefused

        world = self.session.world
        ids = [eid for eid in self.session.selection.ids if world.exists(eid)]
        if not ids:
            raise EditRefused("nothing is selected")
        return ids

    def reparent(self, ids: list[int], parent: int) -> str:
        """Put ``ids`` under ``parent`` (0: top level) as one step; '' when done, else the reason (said)."""
        world = self.session.world
        reason = cycle_reason(world, ids, parent)
        if not reason and parent and not world.exists(parent):
            reason = f"no entity {parent}"
        if reason:
            self.session.say(f"cannot reparent: {reason}", logging.WARNING)
            return reason
        command = reparent_command(world, ids, parent)
        if command is None:
            return ""
        target = world.name_of(parent) or str(parent) if parent else "the top level"
        return self.session.try_do(command, f"reparent under {target}"[:120])

    def group_selected(self) -> int:
        command, group = group_command(self.session.world, self._selected())
        self.session.do(command, "group")
        self.session.selection.set([group])
        return group

    def copy_selected(self) -> int:
        count = self.clipboard.copy(self.session.world, self._selected())
        self.session.say(f"copied {count} entit{'y' if count == 1 else 'ies'} (with what is under them)")
        return count

    def paste_target(self, beside: bool = False) -> int:
        """Where a paste goes: under the selected (primary) entity, or with ``beside`` under its
        parent; 0 (the top level) when nothing is selected."""
        world, primary = self.session.world, self.session.selection.primary
        if not primary or not world.exists(primary):
            return 0
        return world.parent_of(primary) if beside else primary

    def paste(self, beside: bool = False) -> list[int]:
        """Ctrl+V: paste as children of the selected entity; Ctrl+Shift+V (``beside``): as its siblings."""
        from editor.session import EditRefused

        if not self.clipboard:
            raise EditRefused("the clipboard is empty: copy (Ctrl+C) something first")
        world = self.session.world
        parent = self.paste_target(beside)
        where = f" under {world.name_of(parent) or parent}" if parent else ""
        inverse = self.session.do(self.clipboard.paste_command(world, parent),
                                  f"paste from {self.clipboard.source}{where}"[:120])
        roots = created_roots(inverse)
        self.session.selection.set(roots)
        return roots

    def toggle_hidden(self) -> bool:
        """Hide the selection in the editor (show it when all of it is hidden): one undo step."""
        return self._mark("hidden", ("hide", "show"), ("hidden in the editor", "shown"))

    def toggle_locked(self) -> bool:
        """Lock the selection (unlock it when all of it is locked): one undo step."""
        return self._mark("locked", ("lock", "unlock"), ("locked: not pickable or movable in the view", "unlocked"))

    def _mark(self, mark: str, verbs: tuple[str, str], said: tuple[str, str]) -> bool:
        world, ids = self.session.world, self._selected()
        command = self.session.marks.toggle_command(mark, ids)
        names = ", ".join(world.name_of(eid) or str(eid) for eid in ids)
        self.session.do(command, f"{verbs[0] if command.on else verbs[1]} {names}"[:120])
        self.session.say(said[0] if command.on else said[1])
        self.session.renderer.request()
        return command.on
