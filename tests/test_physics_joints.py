"""Joints: hinge, ball, fixed and slider, with limits, to the world or to another body."""
from __future__ import annotations

import math

from engine.core.world import World
from engine.physics import Collider, Joint, PhysicsSystem, RigidBody

DT = 1.0 / 60.0


def physics_world() -> tuple[World, PhysicsSystem]:
    world = World()
    return world, world.add_system(PhysicsSystem())


def body(world: World, name: str, pos: tuple[float, float, float], size: tuple[float, float, float] = (1, 1, 1),
         **fields: object) -> int:
    eid = world.create_entity(name)
    world.node(eid).setPos(*pos)
    world.add(eid, RigidBody(**fields))
    world.add(eid, Collider(shape="box", size=size))
    return eid


def run(world: World, ticks: int) -> None:
    for _ in range(ticks):
        world.tick(DT)


def test_hinge_to_the_world_swings_within_its_limits() -> None:
    world, physics = physics_world()
    door = body(world, "door", (0, 0, 5), size=(2, 0.2, 0.2))
    world.add(door, Joint(kind="hinge", anchor=(-1, 0, 0), axis=(0, 1, 0), limits=True,
                          limit_min=-30, limit_max=30))
    lowest = 5.0
    for _ in range(180):
        world.tick(DT)
        lowest = min(lowest, world.node(door).getZ())
        hinge_end = world.node(door).getPos() + world.node(door).getQuat().xform((-1, 0, 0))
        assert (hinge_end - (-1, 0, 5)).length() < 0.05          # the hinged end stays put
    pitch_now = math.degrees(math.asin(min(1.0, (5 - world.node(door).getZ()) / 1.0)))
    assert lowest < 4.6                                           # it swung down...
    assert pitch_now < 33                                         # ...but only as far as the limit


def test_ball_joint_pendulum_keeps_its_length_and_swings() -> None:
    world, physics = physics_world()
    anchor = world.create_entity("anchor")
    world.node(anchor).setPos(0, 0, 10)
    world.add(anchor, Collider(shape="sphere", radius=0.1))
    bob = body(world, "bob", (3, 0, 10), size=(0.5, 0.5, 0.5))
    world.add(bob, Joint(kind="ball", target=anchor, anchor=(-3, 0, 0)))
    xs = []
    for _ in range(240):
        world.tick(DT)
        assert abs((world.node(bob).getPos() - (0, 0, 10)).length() - 3) < 0.1
        xs.append(world.node(bob).getX())
    assert min(xs) < -2.0                                         # swung through to the other side


def test_fixed_joint_keeps_two_bodies_together() -> None:
    world, physics = physics_world()
    ground = world.create_entity("ground")
    world.node(ground).setPos(0, 0, -0.5)
    world.add(ground, Collider(shape="box", size=(40, 40, 1)))
    base = body(world, "base", (0, 0, 3))
    top = body(world, "top", (0.5, 0, 4.2))
    world.node(top).setH(30)
    world.add(top, Joint(kind="fixed", target=base))
    offset = world.node(top).getPos(world.node(base))
    run(world, 150)
    assert world.node(base).getZ() < 1.0                          # they fell together
    assert (world.node(top).getPos(world.node(base)) - offset).length() < 0.05
    assert abs(world.node(top).getH(world.node(base)) - 30) < 2


def test_slider_moves_only_along_its_axis_and_stops_at_its_limits() -> None:
    world, physics = physics_world()
    carriage = body(world, "carriage", (0, 0, 5))
    world.node(carriage).setR(0)
    world.add(carriage, Joint(kind="slider", axis=(0, 0, 1), limits=True, limit_min=-2, limit_max=0))
    run(world, 120)
    pos = world.node(carriage).getPos()
    assert abs(pos.x) < 1e-3 and abs(pos.y) < 1e-3
    assert abs(pos.z - 3.0) < 0.05                                 # slid down 2 m and stopped
    physics.apply_impulse(carriage, (5, 5, 0))
    run(world, 30)
    assert abs(world.node(carriage).getX()) < 0.01                # sideways pushes do nothing


def test_joint_is_rebuilt_when_its_target_appears_later_and_dropped_when_it_goes() -> None:
    world, physics = physics_world()
    swing = body(world, "swing", (0, 0, 5))
    world.add(swing, Joint(kind="ball", target=99, anchor=(0, 0, 1)))
    run(world, 1)
    assert physics.bullet.getNumConstraints() == 0
    beam = world.create_entity("beam", eid=99)
    world.node(beam).setPos(0, 0, 6)
    world.add(beam, Collider(shape="box", size=(4, 0.2, 0.2)))
    run(world, 60)
    assert physics.bullet.getNumConstraints() == 1
    assert world.node(swing).getZ() > 4.9
    world.destroy(beam)
    run(world, 60)
    assert physics.bullet.getNumConstraints() == 0
    assert world.node(swing).getZ() < 1.0                         # free again: it fell
