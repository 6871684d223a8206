"""The region's ground and water in a Storm World: the height grid as a Storm ``Terrain`` read from
a 16-bit heightmap Storm writes into a private pack folder (``opensim_region:terrain/height.png``),
and the water as a plane at the region's water height. Changes are world commands.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from panda3d.core import Filename, Texture

from engine.core.edit_commands import CreateEntity, DestroyEntity, SetFields, SetTransform
from netcode.opensim.terrain_patch import RegionHeights

if TYPE_CHECKING:
    from engine.core.world import World

PACK = "opensim_region"
HEIGHTMAP = f"{PACK}:terrain/height.png"


class RegionTerrain:
    """The region's ground as a Storm Terrain read from a 16-bit heightmap in a private pack folder."""

    def __init__(self, world: "World", heights: RegionHeights) -> None:
        self.world = world
        self.heights = heights
        self.root = Path(tempfile.mkdtemp(prefix="storm-opensim-"))
        (self.root / "terrain").mkdir()
        (self.root / "pack.toml").write_text(f'schema = 1\nid = "{PACK}"\nversion = "1.0.0"\nkind = "content"\n'
                                             'name = "The visited region (made by Storm)"\n', encoding="utf-8")
        self.entity = 0
        self.water = 0
        self.built_at = 0.0
        self._added = False

    def rebuild(self) -> None:
        grid = np.empty((self.heights.size + 1, self.heights.size + 1), np.float32)
        grid[:-1, :-1] = self.heights.heights
        grid[-1, :-1] = self.heights.heights[-1]
        grid[:, -1] = grid[:, -2]
        low, high = float(grid.min()), float(grid.max())
        span = max(high - low, 0.01)
        self._write((grid - low) / span)
        runtime = self.world.services.get("runtime")
        if runtime is None:
            return
        if not self._added:
            runtime.content.add_pack(self.root)
            self._added = True
        centre = self.heights.size / 2.0
        size = [float(self.heights.size), float(self.heights.size), round(span, 4)]
        if not self.entity:
            inverse = self.world.apply(CreateEntity.new("region terrain", 0, {"Terrain": {
                "heightmap": HEIGHTMAP, "size": size, "max_grid": self.heights.size + 1}},
                {"pos": [centre, centre, round(low, 4)]}))
            assert isinstance(inverse, DestroyEntity)
            self.entity = inverse.entity
        else:
            self.world.apply(SetTransform(self.entity, [centre, centre, round(low, 4)]))
            self.world.apply(SetFields(self.entity, "Terrain", {"size": size}))
            from engine.terrain.system import TerrainSystem

            terrain = self.world.system(TerrainSystem)
            if terrain is not None:
                terrain.rebuild(self.entity)
        self.built_at = time.monotonic()

    def _write(self, normalised: np.ndarray) -> None:
        """A 16-bit grey PNG, written in one copy through a Texture (a Texture's RAM image runs
        bottom to top, so row 0, the region's y = 0, is the image's bottom row: its -Y edge)."""
        rows, cols = normalised.shape
        texture = Texture("region heights")
        texture.setup2dTexture(cols, rows, Texture.T_unsigned_short, Texture.F_luminance)
        texture.setRamImage(np.rint(normalised * 65535).astype("<u2").tobytes())
        path = self.root / "terrain" / "height.png"
        temporary = path.with_suffix(".tmp.png")
        if not texture.write(Filename.fromOsSpecific(str(temporary))):
            raise OSError(f"could not write {temporary}")
        temporary.replace(path)

    def set_water(self, height: float) -> None:
        size = float(self.heights.size)
        transform = {"pos": [size / 2, size / 2, round(height, 4)], "scale": [size, size, 1.0]}
        if not self.water:
            inverse = self.world.apply(CreateEntity.new("region water", 0, {"MeshRenderer": {
                "model": "primitive:plane", "color": [0.15, 0.35, 0.55, 0.65], "cast_shadows": False}}, transform))
            assert isinstance(inverse, DestroyEntity)
            self.water = inverse.entity
        else:
            self.world.apply(SetTransform(self.water, transform["pos"]))

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
