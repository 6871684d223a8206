"""Region objects as Storm entities: each prim, tree and avatar the simulator describes becomes an
entity with a ``RegionObject`` (read-only: the simulator owns it) and a ``MeshRenderer``, edited
only through world commands.

A prim draws the mesh of its path and profile parameters (``prim_models``: the
``opensim_prim`` model source, one shared mesh per shape), tinted by its default face's colour.
When its faces look different (their own colours, textures or texture mapping), the faces of
the most common look stay on the prim's entity and each other look is a child entity drawing
just its faces (``opensim_prim:<shape>/<face mask>``) in its colour. Avatars are capsules,
trees and grass cylinders. Child prims are placed in the world frame from their root (Second
Life children follow their root's position and rotation, not its scale), so each prim's entity
is a root of the World.
"""
from __future__ import annotations

import itertools
import logging
import math
import uuid
from typing import TYPE_CHECKING, Any, Callable

from panda3d.core import LQuaternionf, LVecBase3f

from engine.core.commands import CommandError
from engine.core.component import Component
from engine.core.edit_commands import CreateEntity, DestroyEntity, Rename, SetFields, SetTransform
from engine.core.fields import Enum, Field, Int, Str
from netcode.opensim.objects import PCODE_AVATAR, PCODE_GRASS, PCODE_NEW_TREE, PCODE_PRIM, PCODE_TREE, ObjectState
from netcode.opensim.prim_models import PrimModels, faces_of, model_id, sculpt_id
from netcode.opensim.prim_shape import PrimShape
from netcode.opensim.sculpt_mesh import MESH, sculpt_kind
from netcode.opensim.texture_entry import FaceLook, TextureEntry

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.opensim")
KINDS = ("prim", "avatar", "tree", "grass", "other")
NEW_SHAPES_PER_TICK = 4      # prim meshes built in one tick at most (a hostile shape costs a few ms)


class RegionObject(Component):
    """An object of an OpenSimulator region, mirrored from the simulator (read-only here)."""

    local_id = Field(Int(0, 2**32 - 1), 0, doc="the simulator's local id of the object", editable=False, saved=False)
    full_id = Field(Str(), "", doc="the object's UUID", editable=False, saved=False)
    kind = Field(Enum(KINDS), "prim", doc="prim, avatar, tree, grass or other", editable=False, saved=False)
    shape = Field(Str(), "box", doc="the prim's shape: box, cylinder, prism, sphere, torus, tube or ring, with "
                  "'hollow' and 'cut' (avatars: capsule; trees and grass: cylinder)", editable=False, saved=False)
    parent_id = Field(Int(0, 2**32 - 1), 0, doc="local id of the root prim or seat (0: a root)", editable=False,
                      saved=False)
    label = Field(Str(), "", doc="an avatar's name or an object's floating text", editable=False, saved=False)
    texture = Field(Str(), "", doc="UUID of the default face's texture (empty: none)", editable=False, saved=False)


def kind_of(pcode: int) -> str:
    return {PCODE_PRIM: "prim", PCODE_AVATAR: "avatar", PCODE_TREE: "tree", PCODE_NEW_TREE: "tree",
            PCODE_GRASS: "grass"}.get(pcode, "other")


def shape_of(state: ObjectState) -> str:
    """The shape's short name (see RegionObject.shape)."""
    if state.is_avatar:
        return "capsule"
    if state.pcode != PCODE_PRIM:
        return "cylinder"
    if state.sculpt is not None:
        return "mesh" if sculpt_kind(state.sculpt[1]) == MESH else "sculpt"
    return PrimShape.of(state).name()


def face_groups(entry: TextureEntry, faces: int) -> list[tuple[int, FaceLook]]:
    """The faces of a prim grouped by look: (bit mask of faces, look), the most common look first
    (a tie: the one with the lowest face); one group of mask 0 when every face looks alike."""
    if not (entry.face_textures or entry.face_colors or entry.face_repeats or entry.face_offsets
            or entry.face_rotations):
        return [(0, entry.look)]
    masks: dict[FaceLook, int] = {}
    for face in range(faces):
        look = entry.face(face)
        masks[look] = masks.get(look, 0) | 1 << face
    if len(masks) == 1:
        return [(0, next(iter(masks)))]
    ranked = sorted(masks.items(), key=lambda item: (-bin(item[1]).count("1"), item[1] & -item[1]))
    return [(mask, look) for look, mask in ranked]


def _model_of(state: ObjectState, shape: str, maps: "PrimModels | None") -> tuple[str, list[tuple[int, FaceLook]]]:
    """The model an object's entity draws, and its face groups (prims only; others: one look).
    A sculpted prim whose map has not arrived is a sphere; a mesh object (not drawn yet) its prim."""
    if state.pcode != PCODE_PRIM:
        return f"primitive:{shape}", [(0, state.entry.look)]
    if shape == "sculpt" and state.sculpt is not None:
        arrived = maps is not None and state.sculpt[0] in maps.maps
        return sculpt_id(*state.sculpt) if arrived else "primitive:sphere", [(0, state.entry.face(0))]
    prim = PrimShape.of(state)
    groups = face_groups(state.entry, faces_of(prim))
    return model_id(prim, groups[0][0] if len(groups) > 1 else 0), groups


def _stand_in(shape: str) -> str:
    """The Storm primitive closest to a prim shape (drawn while its mesh waits its turn)."""
    if shape.startswith(("sphere", "torus", "tube", "ring")):
        return "sphere"
    return "cylinder" if shape.startswith("cylinder") else "box"


def _color(look: FaceLook) -> list[float]:
    return [min(1.0, max(0.0, c)) for c in look.color]


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
        self.face_entities: dict[int, list[tuple[int, FaceLook]]] = {}   # local id -> (entity, look) of other looks
        self.looks: dict[int, FaceLook] = {}          # local id -> the look its own entity shows
        runtime = world.services.get("runtime")
        self.models = PrimModels.installed(runtime.assets) if runtime is not None else None
        self.sculpt_waiting: dict[uuid.UUID, set[int]] = {}           # sculpt map -> local ids drawn as spheres
        self.want_map: Callable[[uuid.UUID], None] | None = None      # asked for each sculpt map missing
        from engine.render.system import RenderSystem

        self.drawn = world.system(RenderSystem) is not None   # meshes are built (and cost time) only then
        self.deferred: dict[int, None] = {}           # local ids drawn as a stand-in until their mesh's turn
        self._new_shapes: set[str] = set()            # shape keys first drawn this tick

    def begin_tick(self) -> list[ObjectState]:
        """At a tick's start: a new budget of meshes to build; the prims still waiting for theirs,
        to be shown again first (some of them: those whose shapes miss this tick's budget wait on)."""
        self._new_shapes.clear()
        due = list(itertools.islice(self.deferred, NEW_SHAPES_PER_TICK * 16))
        for local_id in due:
            del self.deferred[local_id]
        return [self.states[local_id] for local_id in due if local_id in self.states]

    def _within_budget(self, state: ObjectState) -> bool:
        """Whether a prim's mesh may be drawn now: it is built already, or this tick may build it
        (``NEW_SHAPES_PER_TICK`` new shapes a tick; the others wait in ``deferred``)."""
        if not self.drawn or self.models is None or state.pcode != PCODE_PRIM or state.sculpt is not None:
            return True
        prim = PrimShape.of(state)
        key = prim.key()
        if key in self._new_shapes or self.models.has(prim):
            return True
        if len(self._new_shapes) < NEW_SHAPES_PER_TICK:
            self._new_shapes.add(key)
            return True
        self.deferred[state.local_id] = None
        return False

    def map_arrived(self, texture_id: uuid.UUID, width: int, height: int, rgba: bytes) -> None:
        """A sculpt map's pixels: the prims waiting for it draw their sculpted mesh."""
        if self.models is None:
            return
        self.models.add_map(texture_id, width, height, rgba)
        for local_id in self.sculpt_waiting.pop(texture_id, ()):
            state = self.states.get(local_id)
            if state is not None and state.sculpt is not None and state.sculpt[0] == texture_id:
                self.upsert(state)

    def looks_of(self, local_id: int) -> list[tuple[int, FaceLook]]:
        """(entity, look) of each entity drawing an object: its own, then its other looks' faces."""
        eid = self.entities.get(local_id)
        if eid is None:
            return []
        return [(eid, self.looks[local_id])] + self.face_entities.get(local_id, [])

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
            _unlink(self.children, old.parent_id, state.local_id)
        if old is not None and old.sculpt is not None and old.sculpt != state.sculpt:
            _unlink(self.sculpt_waiting, old.sculpt[0], state.local_id)
        self.states[state.local_id] = state
        if state.parent_id:
            self.children.setdefault(state.parent_id, set()).add(state.local_id)
        shape = shape_of(state)
        pos, rot = self.world_transform(state)
        transform = {"pos": [round(v, 4) for v in pos], "hpr": hpr_of(rot), "scale": _mesh_scale(state, shape)}
        if self._within_budget(state):
            model, groups = _model_of(state, shape, self.models)
        else:                                  # a stand-in until a later tick builds its mesh
            model, groups = f"primitive:{_stand_in(shape)}", [(0, state.entry.look)]
        if shape == "sculpt" and state.sculpt is not None and model == "primitive:sphere":
            self.sculpt_waiting.setdefault(state.sculpt[0], set()).add(state.local_id)
            if self.want_map is not None:
                self.want_map(state.sculpt[0])
        color = _color(groups[0][1])
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
        self.looks[state.local_id] = groups[0][1]
        self._face_entities(state, eid, groups[1:])
        for child in list(self.children.get(state.local_id, ())):
            self._place(child)

    def _face_entities(self, state: ObjectState, eid: int, groups: list[tuple[int, FaceLook]]) -> None:
        """One child entity for each look but the prim entity's own, drawing the faces of that look."""
        old = self.face_entities.get(state.local_id, [])
        kept: list[tuple[int, FaceLook]] = []
        prim = PrimShape.of(state) if groups else None
        try:
            for k, (mask, look) in enumerate(groups):
                assert prim is not None
                fields = {"model": model_id(prim, mask), "color": _color(look)}
                numbers = ",".join(str(f) for f in range(32) if mask >> f & 1)
                name = f"{(state.name or f'prim {state.local_id}')[:150]} faces {numbers}"
                if k < len(old):
                    self.world.apply(SetFields(old[k][0], "MeshRenderer", fields))
                    if self.world.name_of(old[k][0]) != name:
                        self.world.apply(Rename(old[k][0], name))
                    kept.append((old[k][0], look))
                else:
                    inverse = self.world.apply(CreateEntity.new(name, eid, {"MeshRenderer": fields}))
                    assert isinstance(inverse, DestroyEntity)
                    kept.append((inverse.entity, look))
        except CommandError as exc:
            log.warning("region object %d: its faces not mirrored: %s", state.local_id, exc)
        for child, _look in old[len(kept):]:
            self._drop(child)
        if kept:
            self.face_entities[state.local_id] = kept
        else:
            self.face_entities.pop(state.local_id, None)

    def _drop(self, eid: int) -> None:
        if self.world.exists(eid):
            if self.on_removed is not None:
                self.on_removed(eid)
            self.world.apply(DestroyEntity(eid))

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
        """Destroy an object's entity (KillObject); its children go with it (a chain of any depth:
        no recursion)."""
        doomed = [local_id]
        while doomed:
            local_id = doomed.pop()
            self.deferred.pop(local_id, None)
            state = self.states.pop(local_id, None)
            eid = self.entities.pop(local_id, None)
            self.looks.pop(local_id, None)
            if state is not None and state.sculpt is not None:
                _unlink(self.sculpt_waiting, state.sculpt[0], local_id)
            for face_entity, _look in self.face_entities.pop(local_id, []):
                self._drop(face_entity)
            if state is not None and state.parent_id:
                _unlink(self.children, state.parent_id, local_id)
            doomed.extend(self.children.pop(local_id, ()))
            if eid is not None and self.world.exists(eid):
                if eid == self.local_avatar:
                    self.local_avatar = 0
                if self.on_removed is not None:
                    self.on_removed(eid)
                self.world.apply(DestroyEntity(eid))


def _unlink(sets: "dict[Any, set[int]]", key: Any, local_id: int) -> None:
    """Take ``local_id`` out of ``sets[key]``, and the set out once empty (no empty sets pile up)."""
    members = sets.get(key)
    if members is not None:
        members.discard(local_id)
        if not members:
            del sets[key]
