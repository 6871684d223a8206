"""Where the App draws a world from: a view provider gives, each frame, the view transform and lens.

The default provider is the world's active Camera entity. An editor's free camera or a
head-mounted rig provides its own view (``App.set_view_provider``) without touching the world.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from panda3d.core import NodePath, TransformState

from engine.camera.components import Camera, active_camera
from engine.core.world import World

DEFAULT_CAMERA_POS = (0.0, -20.0, 8.0)


@dataclass(frozen=True)
class View:
    """What to draw from this frame: ``transform`` in the world root's space (looking along its +Y,
    Z up, as Panda3D cameras do) and the lens. ``entity`` is the entity the view rides with (0:
    none); the App draws the view where interpolation between ticks puts that entity."""

    transform: TransformState
    fov: float = 60.0
    near: float = 0.1
    far: float = 1000.0
    entity: int = 0


class ViewProvider(Protocol):
    """Anything that says where the App views a world from; None: the App's default pose."""

    def view(self, world: World) -> View | None:
        """The view for ``world`` this frame."""
        ...


class ActiveCameraView:
    """The default view: through the active Camera entity with the highest priority, with its lens."""

    def view(self, world: World) -> View | None:
        eid = active_camera(world)
        camera = world.get(eid, Camera) if eid else None
        if camera is None:
            return None
        return View(world.node(eid).getTransform(world.root), camera.fov, camera.near, camera.far, entity=eid)


def fixed_view(pos: tuple[float, float, float], look_at: tuple[float, float, float] = (0.0, 0.0, 0.0),
               fov: float = 60.0, near: float = 0.1, far: float = 1000.0) -> View:
    """A view standing at ``pos`` looking at ``look_at`` (world-root space)."""
    node = NodePath("view")
    node.setPos(*pos)
    node.lookAt(*look_at)
    return View(node.getTransform(), fov, near, far)


DEFAULT_TRANSFORM = fixed_view(DEFAULT_CAMERA_POS).transform  # where the App looks from without a view
