"""Character controller: walks up a slope, climbs a step, cannot pass a wall or a too-steep slope,
lands after a jump, runs, turns with its heading, pushes crates, and is seen by queries."""
from __future__ import annotations

import math

from engine.core.world import World
from engine.physics import CharacterController, Collider, PhysicsSystem, RigidBody

DT = 1.0 / 60.0


def course() -> tuple[World, PhysicsSystem]:
    world = World()
    physics = world.add_system(PhysicsSystem())
    block(world, "ground", (0, 0, -0.5), (200, 200, 1))
    return world, physics


def block(world: World, name: str, center: tuple[float, float, float], size: tuple[float, float, float]) -> int:
    eid = world.create_entity(name)
    world.node(eid).setPos(*center)
    world.add(eid, Collider(shape="box", size=size))
    return eid


def ramp(world: World, x: float, degrees: float, start_y: float = 2.0, length: float = 8.0) -> int:
    """A slab rising towards +Y whose top surface leaves the ground at ``start_y``."""
    thick, angle = 0.4, math.radians(degrees)
    center = (x, start_y + length / 2 * math.cos(angle) + thick / 2 * math.sin(angle),
              length / 2 * math.sin(angle) - thick / 2 * math.cos(angle))
    eid = block(world, f"ramp{degrees:g}", center, (3, length, thick))
    world.node(eid).setHpr(0, degrees, 0)
    return eid


def walker(world: World, x: float, y: float = 0.0, **fields: object) -> CharacterController:
    eid = world.create_entity(f"walker{x:g}")
    world.node(eid).setPos(x, y, 0)
    return world.add(eid, CharacterController(**fields))


def run(world: World, ticks: int) -> None:
    for _ in range(ticks):
        world.tick(DT)


def feet(world: World, controller: CharacterController) -> tuple[float, float, float]:
    return tuple(world.node(controller.entity).getPos())  # type: ignore[return-value]


def test_character_walks_up_a_walkable_slope() -> None:
    world, _ = course()
    ramp(world, 0, 20)
    player = walker(world, 0)
    run(world, 10)
    player.move = (0, 1, 0)
    run(world, 120)                                       # 8 m at 4 m/s
    x, y, z = feet(world, player)
    assert y > 7.5
    surface = (y - 2) * math.tan(math.radians(20))
    assert surface - 0.05 < z < surface + 0.1
    assert player.grounded


def test_character_climbs_a_step_but_not_a_wall() -> None:
    world, _ = course()
    block(world, "step", (0, 7, 0.125), (3, 10, 0.25))
    block(world, "wall", (10, 3, 1), (3, 0.5, 2))
    climber, blocked = walker(world, 0), walker(world, 10)
    run(world, 10)
    climber.move = blocked.move = (0, 1, 0)
    run(world, 90)
    _, y, z = feet(world, climber)
    assert y > 5.5 and abs(z - 0.25) < 0.05 and climber.grounded
    _, y, z = feet(world, blocked)
    assert 2.0 < y < 2.75 - 0.4 + 0.01 and z < 0.05      # pressed against the wall's face


def test_character_cannot_walk_up_a_too_steep_slope() -> None:
    world, _ = course()
    ramp(world, 0, 60)
    player = walker(world, 0, slope_limit=45.0)
    run(world, 10)
    player.move = (0, 1, 0)
    run(world, 120)
    _, y, z = feet(world, player)
    assert y < 2.4 and z <= player.step_height + 0.05


def test_character_jumps_and_lands() -> None:
    world, _ = course()
    player = walker(world, 0)
    run(world, 10)
    assert player.grounded and abs(feet(world, player)[2]) < 0.05
    player.jump = True
    world.tick(DT)
    assert not player.jump and not player.grounded        # the jump was consumed
    peak = 0.0
    for _ in range(90):
        world.tick(DT)
        peak = max(peak, feet(world, player)[2])
    expected_peak = player.jump_speed ** 2 / (2 * 9.81)
    assert abs(peak - expected_peak) < 0.1
    assert player.grounded and abs(feet(world, player)[2]) < 0.05
    assert player.vertical_speed == 0.0


def test_character_falls_off_a_ledge_and_lands_below() -> None:
    world, _ = course()
    block(world, "platform", (0, 0, 1.5), (4, 4, 3))
    player = walker(world, 0)
    world.node(player.entity).setZ(3.0)
    run(world, 10)
    assert player.grounded and abs(feet(world, player)[2] - 3.0) < 0.05
    player.move = (1, 0, 0)
    run(world, 45)                                        # 3 m: past the edge at x = 2
    player.move = (0, 0, 0)
    run(world, 60)
    assert player.grounded and abs(feet(world, player)[2]) < 0.05


def test_running_is_faster_and_local_moves_follow_the_heading() -> None:
    world, _ = course()
    walking, running = walker(world, 0), walker(world, 10, run=True)
    turned = walker(world, 20, local=True)
    world.node(turned.entity).setH(90)                    # +Y turns to -X
    run(world, 5)
    for controller in (walking, running, turned):
        controller.move = (0, 1, 0)
    run(world, 60)
    assert abs(feet(world, walking)[1] - 4.0) < 0.1
    assert abs(feet(world, running)[1] - 8.0) < 0.1
    x, y, _ = feet(world, turned)
    assert abs(x - 16.0) < 0.1 and abs(y) < 0.1


def test_character_pushes_a_crate_out_of_its_way() -> None:
    world, physics = course()
    crate = world.create_entity("crate")
    world.node(crate).setPos(0, 3, 0.5)
    world.add(crate, RigidBody(mass=5))
    world.add(crate, Collider(shape="box"))
    player = walker(world, 0)
    run(world, 30)
    player.move = (0, 1, 0)
    run(world, 90)
    assert world.node(crate).getY() > 4.5
    assert feet(world, player)[1] > 3.0
    assert world.node(crate).getY() - feet(world, player)[1] > 0.85


def test_character_with_push_force_zero_is_stopped_by_a_crate() -> None:
    world, _ = course()
    crate = world.create_entity("crate")
    world.node(crate).setPos(0, 3, 0.5)
    world.add(crate, RigidBody(mass=5))
    world.add(crate, Collider(shape="box"))
    player = walker(world, 0, push_force=0.0)
    run(world, 30)
    player.move = (0, 1, 0)
    run(world, 60)
    assert abs(world.node(crate).getY() - 3) < 0.05
    assert feet(world, player)[1] < 2.2


def test_character_is_hit_by_rays_and_walks_the_same_way_twice() -> None:
    def walk() -> tuple[tuple[float, float, float], int]:
        world, physics = course()
        ramp(world, 0, 25)
        block(world, "step", (4, 3, 0.15), (2, 2, 0.3))
        player = walker(world, 0)
        for tick in range(150):
            player.move = (math.sin(tick / 20), 1.0, 0)
            player.jump = tick == 40
            world.tick(DT)
        x, y, z = feet(world, player)
        hit = physics.raycast((x, y, z + 10), (x, y, z - 1))
        return (x, y, z), hit.entity if hit else 0

    first, second = walk(), walk()
    assert first == second
    assert first[1] != 0
