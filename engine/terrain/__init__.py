"""Terrain: ground drawn and collided from a grey heightmap image. See docs/terrain.md.

``TerrainSystem`` is imported on first use: the component registry imports this package while
the physics package may still be initialising, and the system depends on physics.
"""
from __future__ import annotations

from typing import Any

from engine.terrain.components import Terrain

__all__ = ["Terrain", "TerrainSystem"]


def __getattr__(name: str) -> Any:
    if name == "TerrainSystem":
        from engine.terrain.system import TerrainSystem

        return TerrainSystem
    raise AttributeError(f"module 'engine.terrain' has no attribute {name!r}")
