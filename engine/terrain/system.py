"""The TerrainSystem: draws Terrain components and gives the physics their surfaces.

A terrain is built as soon as its component is added (the editor sees it without ticking):
the mesh as a child node named ``terrain`` of the entity, and, with ``collide``, a static
Bullet body built by ``engine.physics.shapes.grid_mesh_shape`` from the same grid, handed to
the PhysicsSystem through ``PhysicsSystem.attach_static``. Each tick, before physics, a terrain
whose entity moved has its body moved with it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from panda3d.bullet import BulletRigidBodyNode
from panda3d.core import NodePath, TransformState

from engine.core.events import ComponentAdded, ComponentRemoved, FieldChanged
from engine.core.system import ORDER_PHYSICS, System
from engine.packs.assets import PLACEHOLDER_COLOR
from engine.physics.bodies import STATIC_FRICTION, STATIC_RESTITUTION
from engine.physics.components import ALL_LAYERS
from engine.physics.shapes import grid_mesh_shape
from engine.physics.system import PhysicsSystem
from engine.render.colors import srgb_to_linear
from engine.terrain.components import Terrain
from engine.terrain.heightmap import Heightmap, HeightmapError, read_heightmap, sample_grid
from engine.terrain.mesh import blend_colors, build_mesh, grid_normals

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.terrain")
ORDER_TERRAIN = ORDER_PHYSICS - 10   # bodies follow their entities before Bullet steps


@dataclass(eq=False)
class _Built:
    """What the system made for one Terrain."""

    terrain: Terrain
    heights: np.ndarray
    mesh: NodePath
    body: BulletRigidBodyNode | None = None
    body_path: NodePath | None = None
    placed: TransformState | None = None
    placeholder: bool = False


class TerrainSystem(System):
    """Builds, rebuilds and removes the meshes and collision surfaces of Terrain components."""

    name = "terrain"
    order = ORDER_TERRAIN

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._world: "World | None" = None
        self._built: dict[int, _Built] = {}
        self._images: dict[str, Heightmap | HeightmapError] = {}

    # -- lifecycle ------------------------------------------------------------------------------
    def attach(self, world: "World") -> None:
        self._world = world
        self.listen(world, {ComponentAdded: self._on_added, ComponentRemoved: self._on_removed,
                            FieldChanged: self._on_changed}, (Terrain,))

    def detach(self, world: "World") -> None:
        self.stop_listening()
        for eid in list(self._built):
            self._drop(eid)
        self._world = None

    def _on_added(self, event: ComponentAdded) -> None:
        if isinstance(event.component, Terrain):
            self._drop(event.entity)
            self._build(event.entity, event.component)

    def _on_removed(self, event: ComponentRemoved) -> None:
        built = self._built.get(event.entity)
        if built is not None and built.terrain is event.component:
            self._drop(event.entity)

    def _on_changed(self, event: FieldChanged) -> None:
        if isinstance(event.component, Terrain):
            self._on_added(ComponentAdded(event.entity, event.component))

    def save_state(self, world: "World") -> None:
        """A snapshot is a sync point: each surface's Bullet placement counts as up to date (the
        PhysicsSystem reads it from the node again)."""
        self._settle()

    def load_state(self, world: "World", state: None) -> None:
        self._settle()

    def _settle(self) -> None:
        for built in self._built.values():
            if built.body_path is not None:
                built.placed = built.body_path.getNetTransform()

    def rebuild(self, eid: int) -> None:
        """Build an entity's terrain again, reading its image from disk again (after changing fields
        without ``World.set_field``, or after a new heightmap was written)."""
        assert self._world is not None
        terrain = self._world.get(eid, Terrain)
        self._drop(eid)
        if terrain is not None:
            self._images.pop(terrain.heightmap, None)
            self._build(eid, terrain)

    # -- the tick -------------------------------------------------------------------------------
    def update(self, world: "World", dt: float) -> None:
        for eid, built in self._built.items():
            if built.terrain.collide and built.body is None:
                self._attach_body(eid, built)             # a PhysicsSystem may have arrived later
            elif built.body is not None and built.body_path is not None:
                placed = built.body_path.getNetTransform()
                if placed != built.placed:                # the entity moved: Bullet reads it again
                    built.placed = placed
                    built.body.setTransformDirty()

    # -- queries --------------------------------------------------------------------------------
    def heights(self, eid: int) -> np.ndarray | None:
        """The grid of heights in [0, 1] an entity's terrain was built from (row 0 at +Y), or None."""
        built = self._built.get(eid)
        return None if built is None else built.heights

    def mesh(self, eid: int) -> NodePath | None:
        """The drawn mesh of an entity's terrain, or None."""
        built = self._built.get(eid)
        return None if built is None else built.mesh

    def is_placeholder(self, eid: int) -> bool:
        """Whether the terrain is a flat stand-in because its image could not be used."""
        built = self._built.get(eid)
        return built is not None and built.placeholder

    # -- building -------------------------------------------------------------------------------
    def _build(self, eid: int, terrain: Terrain) -> None:
        world = self._world
        assert world is not None
        sx, sy, _ = terrain.size
        if sx <= 0 or sy <= 0:
            self._report(eid, "size", f"x and y extents above 0, got {list(terrain.size)}", "no terrain is built")
            return
        heights, placeholder = self._heights(eid, terrain), False
        if heights is None:
            heights, placeholder = np.zeros((2, 2), np.float32), True
        heights = sample_grid(heights, terrain.max_grid)
        normals = grid_normals(heights, terrain.size)
        if placeholder:
            colors = np.tile(np.asarray(srgb_to_linear(PLACEHOLDER_COLOR), np.float32), (heights.size, 1))
        else:
            colors = blend_colors(heights, normals, terrain.size, terrain.color, terrain.blend_color,
                                  terrain.blend, terrain.blend_range)
        mesh = build_mesh(heights, terrain.size, normals, colors)
        mesh.reparentTo(world.node(eid))
        if not terrain.point_shadows:
            from engine.render.point_shadows import POINT_SHADOW_CAMERAS

            mesh.hide(POINT_SHADOW_CAMERAS)   # the sun's shadow camera (LIGHT_SHADOW_CAMERAS) still draws it
        built = _Built(terrain, heights, mesh, placeholder=placeholder)
        self._built[eid] = built
        if terrain.collide:
            self._attach_body(eid, built)

    def _heights(self, eid: int, terrain: Terrain) -> np.ndarray | None:
        """The image's heights, or None after reporting why there are none."""
        world = self._world
        assert world is not None
        asset_id = terrain.heightmap
        cached = self._images.get(asset_id)
        if cached is None:
            cached = self._read(world, asset_id)
            self._images[asset_id] = cached
        if isinstance(cached, HeightmapError):
            self._report(eid, "heightmap", f"a grey PNG image (8- or 16-bit) in an enabled pack; {cached}",
                         "showing a flat placeholder")
            return None
        if cached.note:
            self._report(eid, "heightmap", "a grey image", f"{asset_id!r} is {cached.note}", logging.WARNING)
        return cached.heights

    def _read(self, world: "World", asset_id: str) -> Heightmap | HeightmapError:
        runtime = world.services.get("runtime")
        if not asset_id:
            return HeightmapError("the field is empty")
        if runtime is None:
            return HeightmapError(f"no runtime service to find {asset_id!r} in content packs")
        try:
            found = runtime.content.has(asset_id) or runtime.content.resolve(asset_id)
        except ValueError as exc:
            return HeightmapError(str(exc))
        if not found:
            return HeightmapError(f"{asset_id!r} was not found in the enabled packs")
        try:
            return read_heightmap(runtime.content, asset_id)
        except HeightmapError as exc:
            return HeightmapError(f"{asset_id!r}: {exc}")

    def _attach_body(self, eid: int, built: _Built) -> None:
        world = self._world
        assert world is not None
        physics = world.system(PhysicsSystem)
        if physics is None:
            return
        terrain = built.terrain
        node = BulletRigidBodyNode("terrain-collision")
        node.addShape(grid_mesh_shape(built.heights, terrain.size, TransformState.makeIdentity()))
        node.setFriction(STATIC_FRICTION)
        node.setRestitution(STATIC_RESTITUTION)
        built.body_path = world.node(eid).attachNewNode(node)
        built.body = node
        built.placed = built.body_path.getNetTransform()
        physics.attach_static(eid, node, terrain.layer, ALL_LAYERS, surface=True)

    def _drop(self, eid: int) -> None:
        built = self._built.pop(eid, None)
        if built is None:
            return
        built.mesh.removeNode()
        if built.body is not None:
            physics = self._world.system(PhysicsSystem) if self._world is not None else None
            if physics is not None:
                physics.detach_static(built.body)
            if built.body_path is not None:
                built.body_path.removeNode()

    def _report(self, eid: int, field: str, expected: str, outcome: str, level: int = logging.ERROR) -> None:
        world = self._world
        name = world.name_of(eid) if world is not None else ""
        message = f"entity {eid} ({name!r}) Terrain.{field}: expected {expected}; {outcome}"
        log.log(level, message)
        self.errors.append(message)
