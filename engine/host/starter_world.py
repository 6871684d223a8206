"""The world ``main.py new-world`` writes: a camera, a sun, sky and sky light, ground and one box."""
from __future__ import annotations

from engine.camera.components import Camera
from engine.core.world import World
from engine.host.runtime import Runtime
from engine.render.components import Environment, Light, MeshRenderer


def starter_world(runtime: Runtime, name: str) -> World:
    """A small lit scene to start editing from."""
    world = runtime.new_world(seed=1, name=name)
    camera = world.create_entity("Camera")
    world.node(camera).setPosHpr(0, -12, 5, 0, -20, 0)
    world.add(camera, Camera())
    sun = world.create_entity("Sun")
    world.node(sun).setPosHpr(0, 0, 20, 30, -60, 0)
    world.add(sun, Light(kind="directional", shadows=True))
    world.add(world.create_entity("Environment"), Environment())
    sky = world.create_entity("Sky light")
    world.add(sky, Light(kind="ambient", color=(0.5, 0.55, 0.65, 1.0), intensity=0.6))
    ground = world.create_entity("Ground")
    world.node(ground).setScale(20, 20, 1)
    world.add(ground, MeshRenderer(model="primitive:plane", color=(0.4, 0.5, 0.35, 1.0)))
    box = world.create_entity("Box")
    world.node(box).setPos(0, 0, 0.5)
    world.add(box, MeshRenderer(model="primitive:box"))
    return world
