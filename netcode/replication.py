"""What the server replicates each snapshot: the transforms and replicated fields of *networked*
entities, gathered once per snapshot and cut per client to what that client may see.

An entity is networked when the simulation can change it: it has a moving body (a dynamic or
kinematic RigidBody, a CharacterController), a behaviour, or an InputOwner. Everything else is
part of the map a client receives when it joins and changes only through commands, which the
server forwards. Field values come from the declarations (``Field(replicate=...)``) through the
shared ``FieldSchema``; fields a player's own entity lets its owner write are not sent to that
owner, who predicts them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.core.events import ComponentAdded, ComponentRemoved, EntityCreated, EntityDestroyed
from engine.input.components import InputOwner
from engine.physics.components import CharacterController, RigidBody
from engine.scripting.behaviour import Behaviour
from netcode.field_schema import SCALE_FIELD, FieldSchema
from netcode.quantize import TransformSpec, quantise_positions, quantise_quats
from netcode.snapshot_codec import View

if TYPE_CHECKING:
    from engine.core.world import World


def is_networked(world: "World", eid: int) -> bool:
    """Whether the simulation can move or change ``eid`` (see the module doc)."""
    body = world.get(eid, RigidBody)
    if body is not None and (body.kinematic or body.mass > 0):
        return True
    if world.has(eid, CharacterController) or world.has(eid, InputOwner):
        return True
    return any(isinstance(c, Behaviour) for c in world.components(eid))


@dataclass
class Gathered:
    """One snapshot's networked state: ids sorted, float positions (world-root space, for
    interest and lag compensation), and the quantised view of everything."""

    tick: int
    view: View
    world_pos: np.ndarray


class Replicator:
    """Keeps the set of networked entities and gathers their state (the server's half of replication)."""

    def __init__(self, world: "World", spec: TransformSpec, schema: FieldSchema | None = None) -> None:
        self.world = world
        self.spec = spec
        self.schema = schema if schema is not None else FieldSchema()
        self._dirty: set[int] = set(world.entities())
        self.networked: set[int] = set()
        self.version = 0              # grows whenever the set of networked entities changes
        self._ids = np.zeros(0, np.int64)
        self._stale = True
        self._fields: dict[int, dict[int, Any]] = {}   # the last gather's, per entity (see gather)
        self._unsubscribe = [world.events.subscribe(kind, self._touch) for kind in
                             (ComponentAdded, ComponentRemoved, EntityCreated)]
        self._unsubscribe.append(world.events.subscribe(EntityDestroyed, self._gone))
        self.new_schema_entries: list[list[Any]] = []
        for eid in world.entities():
            for component in world.components(eid):
                self.schema.add_class(type(component))

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    def _touch(self, event: Any) -> None:
        self._dirty.add(event.entity)
        component = getattr(event, "component", None)
        if component is not None and isinstance(event, ComponentAdded):
            for entry in self.schema.add_class(type(component)):
                self.new_schema_entries.append(entry.describe())

    def _gone(self, event: EntityDestroyed) -> None:
        self._dirty.discard(event.entity)
        if event.entity in self.networked:
            self.networked.discard(event.entity)
            self._stale = True

    def refresh(self) -> None:
        """Re-decide the entities whose components changed since the last call."""
        if not self._dirty and not self._stale:
            return
        self._stale = False
        world = self.world
        for eid in self._dirty:
            if world.exists(eid) and is_networked(world, eid):
                self.networked.add(eid)
            else:
                self.networked.discard(eid)
        self._dirty.clear()
        ids = np.asarray(sorted(self.networked), dtype=np.int64)
        if not np.array_equal(ids, self._ids):
            self.version += 1
        self._ids = ids

    def gather(self, tick: int) -> Gathered:
        """The networked entities' quantised local transforms and field values, and world positions.
        An entity whose values are those of the last gather keeps that gather's dict: the encoder
        then sees by identity that a client holding it needs nothing (one comparison per entity
        here instead of one per entity and client there)."""
        self.refresh()
        world, schema = self.world, self.schema
        ids = self._ids
        root = world.root
        n = len(ids)
        local_rows: list[tuple[float, float, float]] = []
        quat_rows: list[tuple[float, float, float, float]] = []
        world_rows: list[tuple[float, float, float]] = []
        fields: dict[int, dict[int, Any]] = {}
        last = self._fields
        quantise = schema.quantise
        for eid in ids.tolist():
            node = world.node(eid)
            p, q, w = node.getPos(), node.getQuat(), node.getPos(root)
            local_rows.append((p.x, p.y, p.z))
            quat_rows.append((q.getR(), q.getI(), q.getJ(), q.getK()))
            world_rows.append((w.x, w.y, w.z))
            s = node.getScale()
            values = {SCALE_FIELD: (float(s.x), float(s.y), float(s.z))}
            for component in world.components(eid):
                for fid, name, _entry in schema.fields_of(type(component)):
                    values[fid] = quantise(fid, component.__dict__[name])
            kept = last.get(eid)
            fields[eid] = kept if kept == values else values
        self._fields = fields
        local = np.array(local_rows, np.float64).reshape(n, 3)
        quats = np.array(quat_rows, np.float64).reshape(n, 4)
        world_pos = np.array(world_rows, np.float64).reshape(n, 3)
        largest, parts = quantise_quats(quats, self.spec) if n else (np.zeros(0, np.int64), np.zeros((0, 3), np.int64))
        view = View(ids, quantise_positions(local, self.spec) if n else np.zeros((0, 3), np.int64), largest, parts, fields)
        return Gathered(tick, view, world_pos)


def view_for(gathered: Gathered, ids: np.ndarray, own_entity: int, owner_fids: set[int]) -> View:
    """The part of a gathered view one client gets: rows of ``ids`` (sorted, networked), without the
    owner-authority fields of its own entity."""
    view = gathered.view
    rows = np.searchsorted(view.ids, ids)
    fields = {eid: view.fields[eid] for eid in ids.tolist() if eid in view.fields}
    own = fields.get(own_entity)
    if own is not None and owner_fids:
        fields[own_entity] = {fid: v for fid, v in own.items() if fid not in owner_fids}
    return View(view.ids[rows], view.pos[rows], view.largest[rows], view.parts[rows], fields)


def own_view(cut: View, own_entity: int, owner_fids: set[int]) -> View:
    """A client's view from the cut shared by every client that sees the same entities (arrays
    shared, not copied), without the owner-authority fields of its own entity."""
    fields = cut.fields
    own = fields.get(own_entity)
    if own is not None and owner_fids and not owner_fids.isdisjoint(own):
        fields = dict(fields)
        fields[own_entity] = {fid: v for fid, v in own.items() if fid not in owner_fids}
    return View(cut.ids, cut.pos, cut.largest, cut.parts, fields)


class InterestGrid:
    """Interest management by grid cells: a client sees the networked entities within ``radius``
    cells of its player's cell (a (2r+1)^2 square), and keeps seeing one until it is a cell further
    away (so an entity on a cell border does not flicker in and out)."""

    def __init__(self, cell: float = 32.0, radius: int = 1) -> None:
        if cell <= 0 or radius < 0:
            raise ValueError("interest cells need a positive size and a radius >= 0")
        self.cell = cell
        self.radius = radius

    def cells(self, world_pos: np.ndarray) -> np.ndarray:
        return np.floor(world_pos[:, :2] / self.cell).astype(np.int64)

    def visible(self, gathered: Gathered, center: tuple[float, float], known: np.ndarray) -> np.ndarray:
        """Ids a client at ``center`` gets now: inside the radius, or known and inside radius + 1."""
        cells = self.cells(gathered.world_pos)
        here = np.floor(np.asarray(center) / self.cell).astype(np.int64)
        reach = np.max(np.abs(cells - here[None, :]), axis=1)
        ids = gathered.view.ids
        keep = (reach <= self.radius) | ((reach <= self.radius + 1) & np.isin(ids, known))
        return ids[keep]
