"""Region objects as Storm entities: each prim, tree and avatar the simulator describes becomes an
entity with a ``RegionObject`` (read-only: the simulator owns it) and a ``MeshRenderer`` drawing
Storm's procedural primitive for its prim shape, edited only through world commands.

Prim shapes map from path and profile curves: a square profile on a line path is a box, a
circle on a line a cylinder, a half circle on a circle path a sphere; avatars are capsules.
Child prims are placed in the world frame from their root (Second Life children follow their
root's position and rotation, not its scale), so each entity is a root of the World.
"""
from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Callable

from panda3d.core import LQuaternionf, LVecBase3f

from engine.core.commands import CommandError
from engine.core.component import Component
from engine.core.edit_commands import CreateEntity, DestroyEntity, SetFields, SetTransform
from engine.core.fields import Enum, Field, Int, Str
from netcode.opensim.objects import PCODE_AVATAR, PCODE_GRASS, PCODE_NEW_TREE, PCODE_PRIM, PCODE_TREE, ObjectState

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.opensim")
KINDS = ("prim", "avatar", "tree", "grass", "other")
PATH_LINE, PATH_CIRCLE = 0x10, 0x20
PROFILE_CIRCLE, PROFILE_SQUARE, PROFILE_HALF_CIRCLE = 0, 1, 5


class RegionObject(Component):
    """An object of an OpenSimulator region, mirrored from the simulator (read-only here)."""

    local_id = Field(Int(0, 2**32 - 1), 0, doc="the simulator's local id of the object", editable=False, saved=False)
    full_id = Field(Str(), "", doc="the object's UUID", editable=False, saved=False)
    kind = Field(Enum(KINDS), "prim", doc="prim, avatar, tree, grass or other", editable=False, saved=False)
    shape = Field(Str(), "box", doc="the prim shape Storm draws (from path and profile curves)", editable=False,
                  saved=False)
    parent_id = Field(Int(0, 2**32 - 1), 0, doc="local id of the root prim or seat (0: a root)", editable=False,
                      saved=False)
    label = Field(Str(), "", doc="an avatar's name or an object's floating text", editable=False, saved=False)
    texture = Field(Str(), "", doc="UUID of the default face's texture (empty: none)", editable=False, saved=False)


def kind_of(pcode: int) -> str:
    return {PCODE_PRIM: "prim", PCODE_AVATAR: "avatar", PCODE_TREE: "tree", PCODE_NEW_TREE: "tree",
            PCODE_GRASS: "grass"}.get(pcode, "other")


def shape_of(state: ObjectState) -> str:
    """The Storm primitive drawn for an object (see the module's docstring)."""
    if state.is_avatar:
        return "capsule"
    if state.pcode in (PCODE_TREE, PCODE_NEW_TREE, PCODE_GRASS):
        return "cylinder"
    profile = state.profile_curve & 0x0F
    if state.path_curve == PATH_CIRCLE and profile == PROFILE_HALF_CIRCLE:
        return "sphere"
    if state.path_curve == PATH_LINE and profile in (PROFILE_CIRCLE, PROFILE_HALF_CIRCLE):
        return "cylinder"
    if state.path_curve == PATH_CIRCLE:
        return "sphere"      # tori, tubes and rings: drawn as spheres for now
    return "box"


def hpr_of(rotation: tuple[float, float, float, float]) -> list[float]:
    x, y, z, w = rotation
    hpr = LQuaternionf(w, x, y, z).getHpr()
    return [round(hpr[0], 4), round(hpr[1], 4), round(hpr[2], 4)]


def _mesh_scale(state: ObjectState, shape: str) -> list[float]:
    sx, sy, sz = (max(0.001, abs(v)) for v in state.scale)
    if shape == "capsule":
        return [sx, sy, sz / 2.0]       # Storm's capsule is 2 units tall
    return [sx, sy, sz]


class ObjectMirror:
    """Keeps one entity per region object, created, moved and destroyed through world commands."""

    def __init__(self, world: "World", agent_id: str = "") -> None:
        self.world = world
        self.agent_id = agent_id
        self.states: dict[int, ObjectState] = {}
        self.entities: dict[int, int] = {}            # local id -> entity id
        self.children: dict[int, set[int]] = {}       # root local id -> child local ids
        self.local_avatar = 0                         # entity of our own avatar, 0 until seen
        self.on_removed: Callable[[int], None] | None = None   # told each entity killed

    def entity_of(self, local_id: int) -> int:
        return self.entities.get(local_id, 0)

    def world_transform(self, state: ObjectState, depth: int = 0) -> tuple[tuple[float, float, float],
                                                                          tuple[float, ...]]:
        """Position and rotation in the region frame (children composed with their root; a chain of
        parents deeper than 4, or a cycle, stops there)."""
        parent = self.states.get(state.parent_id) if state.parent_id else None
        if parent is None or depth >= 4:
            return state.position, state.rotation
        ppos, prot = self.world_transform(parent, depth + 1)
        q = LQuaternionf(prot[3], prot[0], prot[1], prot[2])
        offset = q.xform(LVecBase3f(*state.position))
        child = LQuaternionf(state.rotation[3], *state.rotation[:3])
        combined = child * q                 # Panda3D: child then parent
        return ((ppos[0] + offset[0], ppos[1] + offset[1], ppos[2] + offset[2]),
                (combined.getI(), combined.getJ(), combined.getK(), combined.getR()))

    def upsert(self, state: ObjectState) -> None:
        """Create or update the entity of an object from a full (or compressed) update."""
        old = self.states.get(state.local_id)
        if old is not None and old.parent_id != state.parent_id:
            self.children.get(old.parent_id, set()).discard(state.local_id)
        self.states[state.local_id] = state
        if state.parent_id:
            self.children.setdefault(state.parent_id, set()).add(state.local_id)
        shape = shape_of(state)
        pos, rot = self.world_transform(state)
        transform = {"pos": [round(v, 4) for v in pos], "hpr": hpr_of(rot), "scale": _mesh_scale(state, shape)}
        model = f"primitive:{shape}"
        color = [min(1.0, max(0.0, c)) for c in state.color]
        label = state.name or state.text
        texture = str(state.texture) if state.texture is not None and not state.is_avatar else ""
        eid = self.entities.get(state.local_id)
        try:
            if eid is None:
                name = state.name or f"{kind_of(state.pcode)} {state.local_id}"
                components = {
                    "RegionObject": {"local_id": state.local_id, "full_id": str(state.full_id),
                                     "kind": kind_of(state.pcode), "shape": shape, "parent_id": state.parent_id,
                                     "label": label[:200], "texture": texture},
                    "MeshRenderer": {"model": model, "color": color},
                }
                inverse = self.world.apply(CreateEntity.new(name[:200], 0, components, transform))
                assert isinstance(inverse, DestroyEntity)
                eid = self.entities[state.local_id] = inverse.entity
                if state.is_avatar and str(state.full_id) == self.agent_id:
                    self.local_avatar = eid
            else:
                self.world.apply(SetTransform(eid, transform["pos"], transform["hpr"], transform["scale"]))
                self.world.apply(SetFields(eid, "MeshRenderer", {"model": model, "color": color}))
                self.world.apply(SetFields(eid, "RegionObject", {"shape": shape, "parent_id": state.parent_id,
                                                                 "label": label[:200], "texture": texture}))
        except CommandError as exc:
            log.warning("region object %d: not mirrored: %s", state.local_id, exc)
            return
        for child in list(self.children.get(state.local_id, ())):
            self._place(child)

    def move(self, local_id: int, position: tuple[float, float, float],
             rotation: tuple[float, float, float, float]) -> None:
        """A terse update: new position and rotation of a known object (unknown ones are ignored)."""
        state = self.states.get(local_id)
        if state is None:
            return
        state.position, state.rotation = position, rotation
        self._place(local_id)
        for child in list(self.children.get(local_id, ())):
            self._place(child)

    def _place(self, local_id: int) -> None:
        state, eid = self.states.get(local_id), self.entities.get(local_id)
        if state is None or eid is None:
            return
        pos, rot = self.world_transform(state)
        if not all(math.isfinite(v) for v in pos):
            return
        try:
            self.world.apply(SetTransform(eid, [round(v, 4) for v in pos], hpr_of(rot)))  # type: ignore[arg-type]
        except CommandError as exc:
            log.warning("region object %d: not moved: %s", local_id, exc)

    def kill(self, local_id: int) -> None:
        """Destroy an object's entity (KillObject); its children go with it."""
        state = self.states.pop(local_id, None)
        eid = self.entities.pop(local_id, None)
        if state is not None and state.parent_id:
            self.children.get(state.parent_id, set()).discard(local_id)
        for child in list(self.children.pop(local_id, ())):
            self.kill(child)
        if eid is not None and self.world.exists(eid):
            if eid == self.local_avatar:
                self.local_avatar = 0
            if self.on_removed is not None:
                self.on_removed(eid)
            self.world.apply(DestroyEntity(eid))
