"""Bad physics setups: each gives one clear logged message naming the entity (id and name) and the
component, and the world keeps running."""
from __future__ import annotations

import logging

import pytest

from engine.core.world import World
from engine.physics import CharacterController, Collider, Joint, PhysicsSystem, RigidBody, Trigger
from engine.render.components import MeshRenderer

DT = 1.0 / 60.0


@pytest.fixture
def world() -> World:
    world = World()
    world.add_system(PhysicsSystem())
    ground = world.create_entity("ground")
    world.node(ground).setPos(0, 0, -0.5)
    world.add(ground, Collider(shape="box", size=(40, 40, 1)))
    return world


def messages(caplog: pytest.LogCaptureFixture, level: int = logging.ERROR) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "storm.physics" and r.levelno >= level]


def tick(world: World, ticks: int = 30) -> None:
    for _ in range(ticks):
        world.tick(DT)


def test_mesh_collider_on_an_entity_without_geometry(world: World, caplog: pytest.LogCaptureFixture) -> None:
    rock = world.create_entity("rock")
    world.add(rock, Collider(shape="mesh"))
    with caplog.at_level(logging.WARNING, logger="storm.physics"):
        tick(world)
    assert messages(caplog) == [f"entity {rock} (rock) Collider: shape 'mesh' takes its geometry from a model, but "
                                f"the entity has no geometry (add a MeshRenderer); the collider is skipped"]
    assert world.tick_count == 30


def test_mesh_collider_on_a_moving_body_becomes_a_hull(world: World, caplog: pytest.LogCaptureFixture) -> None:
    ball = world.create_entity("ball")
    world.node(ball).setPos(0, 0, 3)
    world.add(ball, MeshRenderer(model="primitive:sphere"))
    world.add(ball, RigidBody())
    world.add(ball, Collider(shape="mesh"))
    with caplog.at_level(logging.WARNING, logger="storm.physics"):
        tick(world, 120)
    assert messages(caplog) == [f"entity {ball} (ball) Collider: shape 'mesh' only works on static or kinematic "
                                f"bodies; this moving body gets a convex hull of the model instead"]
    assert abs(world.node(ball).getZ() - 0.5) < 0.06             # the hull stands in for the mesh


def test_joint_to_a_missing_entity(world: World, caplog: pytest.LogCaptureFixture) -> None:
    lamp = world.create_entity("lamp")
    world.node(lamp).setPos(0, 0, 3)
    world.add(lamp, RigidBody())
    world.add(lamp, Collider(shape="sphere"))
    world.add(lamp, Joint(kind="ball", target=404))
    with caplog.at_level(logging.WARNING, logger="storm.physics"):
        tick(world, 60)
    assert messages(caplog) == [f"entity {lamp} (lamp) Joint: target entity 404 does not exist; the joint is skipped"]
    assert world.node(lamp).getZ() < 1.0                         # simulated without the joint


def test_joint_without_a_body_and_joint_to_an_entity_without_a_body(world: World,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    sign = world.create_entity("sign")
    world.add(sign, Joint(kind="hinge"))
    post = world.create_entity("post")
    crate = world.create_entity("crate")
    world.add(crate, RigidBody())
    world.add(crate, Collider())
    world.add(crate, Joint(kind="fixed", target=post))
    with caplog.at_level(logging.WARNING, logger="storm.physics"):
        tick(world)
    assert messages(caplog) == [
        f"entity {sign} (sign) Joint: needs a dynamic or kinematic RigidBody on the same entity; the joint is skipped",
        f"entity {crate} (crate) Joint: target entity {post} (post) has no RigidBody or Collider to join to; "
        f"the joint is skipped"]


def test_heightfield_without_an_image(world: World, caplog: pytest.LogCaptureFixture) -> None:
    hills = world.create_entity("hills")
    world.add(hills, Collider(shape="heightfield"))
    dunes = world.create_entity("dunes")
    world.add(dunes, Collider(shape="heightfield", heightfield="nopack:sand.png"))
    with caplog.at_level(logging.WARNING, logger="storm.physics"):
        tick(world)
    found = messages(caplog)
    assert found[0] == (f"entity {hills} (hills) Collider: shape 'heightfield' needs the field heightfield: an "
                        f"image asset id like 'pack:height.png'; the collider is skipped")
    assert found[1].startswith(f"entity {dunes} (dunes) Collider: ") and "'nopack:sand.png'" in found[1]


def test_trigger_on_a_rigid_body_and_a_body_without_colliders(world: World, caplog: pytest.LogCaptureFixture) -> None:
    mine = world.create_entity("mine")
    world.add(mine, RigidBody())
    world.add(mine, Collider())
    world.add(mine, Trigger())
    dust = world.create_entity("dust")
    world.add(dust, RigidBody())
    with caplog.at_level(logging.WARNING, logger="storm.physics"):
        tick(world)
    assert messages(caplog, logging.WARNING) == [
        f"entity {mine} (mine) Trigger: a trigger cannot also be a RigidBody; put the Trigger on a child entity. "
        f"The Trigger is ignored",
        f"entity {dust} (dust) RigidBody: has no Collider on the entity or a child entity; it moves as a point "
        f"and touches nothing"]


def test_bad_capsule_and_character_sizes(world: World, caplog: pytest.LogCaptureFixture) -> None:
    pill = world.create_entity("pill")
    world.add(pill, Collider(shape="capsule", radius=1.0, height=1.0))
    hero = world.create_entity("hero")
    world.add(hero, CharacterController(radius=1.0, height=1.0))
    with caplog.at_level(logging.WARNING, logger="storm.physics"):
        tick(world)
    assert messages(caplog) == [
        f"entity {pill} (pill) Collider: capsule height 1 is less than twice its radius 1; the collider is skipped",
        f"entity {hero} (hero) CharacterController: height 1 is less than twice the radius 1; using 2"]
    assert world.get(hero, CharacterController).grounded  # type: ignore[union-attr]


def test_fixing_the_problem_rebuilds_the_body(world: World, caplog: pytest.LogCaptureFixture) -> None:
    rock = world.create_entity("rock")
    world.node(rock).setPos(0, 0, 3)
    world.add(rock, RigidBody())
    collider = world.add(rock, Collider(shape="hull"))
    with caplog.at_level(logging.WARNING, logger="storm.physics"):
        tick(world, 5)
    assert len(messages(caplog)) == 1
    world.add(rock, MeshRenderer(model="primitive:box"))
    world.set_field(rock, collider, "shape", "hull")
    tick(world, 120)
    assert abs(world.node(rock).getZ() - 0.5) < 0.015            # a hull is padded by a 1 cm margin


def test_more_than_32_layer_mask_combinations(world: World, caplog: pytest.LogCaptureFixture) -> None:
    for index in range(32):                                     # with the ground's, 33 combinations
        eid = world.create_entity(f"post{index}")
        world.node(eid).setPos(index * 2, 10, 0)
        world.add(eid, Collider(layer=1, mask=0xFFFFFFFF - index))
    with caplog.at_level(logging.WARNING, logger="storm.physics"):
        tick(world, 2)
    found = messages(caplog)
    assert len(found) == 1 and found[0].startswith("entity 33 (post31) Collider: the world already uses 32 ")
    assert world.system(PhysicsSystem).raycast((62, 10, 5), (62, 10, -5)).entity == 33  # type: ignore[union-attr]
