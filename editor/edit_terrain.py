"""Coarse terrain for the editor's edit shading: a copy of each terrain mesh on a sparser grid,
made once per built mesh and kept, drawn instead of the full mesh while editing in edit shading.

On a software renderer the demo's 257 x 257 terrain (131k triangles) is most of a frame; its
coarse copy (``GRID`` points a side: 8k triangles) takes the same nearest samples that
``engine.terrain.heightmap.sample_grid`` takes, with the normals and colours of the full grid at
those points, so it is lit and coloured like the full mesh. It hangs under the terrain's entity
(hidden, tinted, moved and deleted with it) and is never picked: its GeomNode collides with
nothing, so picking and placing on the surface keep hitting the full mesh, which stays in the
scene graph, merely hidden from the editor camera's bit (``EDITOR_HIDDEN``: not a hidden
entity, and ``NodePath.isHidden()`` stays false). Full shading and Play draw the full mesh; the
coarse copy is hidden then.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from panda3d.core import BitMask32, DrawMask, NodePath

from editor.visibility import EDITOR_HIDDEN
from engine.terrain.components import Terrain
from engine.terrain.mesh import blend_colors, build_mesh, grid_normals
from engine.terrain.system import TerrainSystem

if TYPE_CHECKING:
    from engine.core.world import World

GRID = 65          # points along a side of a coarse copy (64 x 64 cells, 8,192 triangles)
COARSE_NAME = "terrain-edit-coarse"


def coarse_copy(heights: np.ndarray, terrain: Terrain, grid: int = GRID) -> NodePath | None:
    """The coarse mesh of a terrain built from ``heights``, or None when the grid is small already."""
    rows, width = heights.shape
    if rows <= grid and width <= grid:
        return None
    row_index = np.round(np.linspace(0, rows - 1, min(rows, grid))).astype(np.intp)
    col_index = np.round(np.linspace(0, width - 1, min(width, grid))).astype(np.intp)
    pick = np.ix_(row_index, col_index)
    normals = grid_normals(heights, terrain.size)
    colors = blend_colors(heights, normals, terrain.size, terrain.color, terrain.blend_color,
                          terrain.blend, terrain.blend_range)
    coarse_heights = np.ascontiguousarray(heights[pick])
    coarse_normals = normals.reshape(rows, width, 3)[pick].reshape(-1, 3)
    coarse_colors = colors.reshape(rows, width, 4)[pick].reshape(-1, 4)
    mesh = build_mesh(coarse_heights, terrain.size, coarse_normals, coarse_colors, name=COARSE_NAME)
    mesh.node().setIntoCollideMask(BitMask32.allOff())   # never picked: the full mesh is
    return mesh


class CoarseTerrains:
    """The coarse copies of one World's terrains, and which of the two meshes the view draws."""

    def __init__(self, grid: int = GRID) -> None:
        self.grid = grid
        self._world: "World | None" = None
        self._copies: dict[int, tuple[NodePath, NodePath]] = {}   # entity -> (full mesh, coarse copy)
        self.coarse = False

    def sync(self, world: "World | None", coarse: bool) -> None:
        """Before each draw: copies for new or rebuilt terrains, dropped ones gone; the coarse copies
        drawn (``coarse``) or the full meshes."""
        if world is not self._world:
            self.clear()
            self._world = world
        if world is None:
            return
        system = world.system(TerrainSystem)
        terrains = world.all_of(Terrain) if system is not None else {}
        for eid in [eid for eid in self._copies if eid not in terrains]:
            self._drop(eid)
        for eid, terrain in terrains.items():
            full = system.mesh(eid)
            known = self._copies.get(eid)
            if known is not None and (full is None or known[0] != full or known[0].isEmpty()):
                self._drop(eid)
                known = None
            if known is None and full is not None and not full.isEmpty():
                heights = system.heights(eid)
                copy = coarse_copy(heights, terrain, self.grid) if heights is not None else None
                if copy is not None:
                    copy.reparentTo(full.getParent())
                    copy.setState(full.getState())
                    copy.setTransform(full.getTransform())
                    self._copies[eid] = (full, copy)
                    self._show(full, copy, self.coarse)
        if coarse != self.coarse:
            self.coarse = coarse
            for full, copy in self._copies.values():
                self._show(full, copy, coarse)

    def meshes(self) -> dict[int, tuple[NodePath, NodePath]]:
        """Entity -> (full mesh, coarse copy), for tests and tools."""
        return dict(self._copies)

    @staticmethod
    def _show(full: NodePath, copy: NodePath, coarse: bool) -> None:
        if coarse:
            full.hide(EDITOR_HIDDEN)
            copy.show()
        else:
            full.node().adjustDrawMask(DrawMask.allOff(), DrawMask.allOff(), EDITOR_HIDDEN)
            copy.hide()

    def _drop(self, eid: int) -> None:
        full, copy = self._copies.pop(eid)
        if not full.isEmpty():
            full.node().adjustDrawMask(DrawMask.allOff(), DrawMask.allOff(), EDITOR_HIDDEN)
        copy.removeNode()

    def clear(self) -> None:
        for eid in list(self._copies):
            self._drop(eid)
        self._world = None
