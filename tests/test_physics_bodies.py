"""Physics bodies: falling and resting, determinism, transform sync both ways, static and compound
bodies, layers and masks, body settings, and bodies going away."""
from __future__ import annotations

import math

from panda3d.bullet import BulletRigidBodyNode
from panda3d.core import PandaNode

from engine.core.component import ComponentRegistry
from engine.core.world import World
from engine.host.builtins import builtin_registry
from engine.physics import PHYSICS_COMPONENTS, Collider, PhysicsSystem, RigidBody
from engine.render.components import MeshRenderer

DT = 1.0 / 60.0


def physics_registry() -> ComponentRegistry:
    registry = builtin_registry()
    for cls in PHYSICS_COMPONENTS:
        registry.register(cls)
    return registry


def physics_world(seed: int = 0) -> tuple[World, PhysicsSystem]:
    world = World(seed=seed, registry=physics_registry())
    return world, world.add_system(PhysicsSystem())


def add_ground(world: World, size: float = 40.0) -> int:
    ground = world.create_entity("ground")
    world.node(ground).setPos(0, 0, -0.5)
    world.add(ground, Collider(shape="box", size=(size, size, 1.0)))
    return ground


def add_box(world: World, pos: tuple[float, float, float], name: str = "box", **body: object) -> int:
    eid = world.create_entity(name)
    world.node(eid).setPos(*pos)
    world.add(eid, RigidBody(**body))
    world.add(eid, Collider(shape="box"))
    return eid


def run(world: World, ticks: int) -> None:
    for _ in range(ticks):
        world.tick(DT)


def test_a_box_falls_and_comes_to_rest_on_the_ground() -> None:
    world, physics = physics_world()
    add_ground(world)
    box = add_box(world, (0, 0, 3))
    run(world, 30)
    assert world.node(box).getZ() < 2.9
    run(world, 150)
    assert abs(world.node(box).getZ() - 0.5) < 0.01
    assert physics.velocity(box)[2] > -0.01


def test_the_entity_node_is_the_bullet_body_and_keeps_its_identity() -> None:
    world, physics = physics_world()
    add_ground(world)
    box = add_box(world, (0, 0, 2), name="crate")
    path = world.node(box)
    run(world, 1)
    assert path is world.node(box)
    assert isinstance(path.node(), BulletRigidBodyNode)
    assert path.getName() == "crate"
    assert world.entity_at_node(path) == box
    assert physics.body(box) is not None


def _scene(seed: int) -> list[tuple[float, float, float]]:
    world, _ = physics_world(seed)
    add_ground(world)
    boxes = []
    for index in range(25):
        x, y = world.random.uniform(-1.5, 1.5), world.random.uniform(-1.5, 1.5)
        boxes.append(add_box(world, (x, y, 1.0 + index * 1.2)))
        world.node(boxes[-1]).setHpr(world.random.uniform(0, 360), world.random.uniform(0, 90), 0)
    run(world, 150)
    return [tuple(world.node(b).getPos()) + tuple(world.node(b).getQuat()) for b in boxes]  # type: ignore[misc]


def test_same_seed_and_inputs_give_the_same_positions_after_n_ticks() -> None:
    first, second = _scene(seed=7), _scene(seed=7)
    assert first == second
    assert _scene(seed=8) != first


def test_kinematic_body_follows_its_node_and_pushes_dynamic_bodies() -> None:
    world, physics = physics_world()
    add_ground(world)
    pusher = add_box(world, (-3, 0, 0.5), name="pusher", kinematic=True)
    crate = add_box(world, (0, 0, 0.5), name="crate")
    run(world, 10)
    start = world.node(crate).getX()
    for tick in range(90):
        world.node(pusher).setX(-3 + 0.05 * (tick + 1))
        world.tick(DT)
    assert world.node(pusher).getX() == -3 + 0.05 * 90      # Bullet never moves a kinematic node
    assert world.node(crate).getX() > start + 0.5             # the crate was shoved along
    hit = physics.raycast((world.node(pusher).getX(), 0, 5), (world.node(pusher).getX(), 0, -5))
    assert hit is not None and hit.entity == pusher


def test_teleporting_a_dynamic_body_through_its_node_moves_the_body() -> None:
    world, physics = physics_world()
    add_ground(world)
    box = add_box(world, (0, 0, 0.5))
    run(world, 60)
    world.node(box).setPos(10, 0, 0.5)
    run(world, 1)
    assert abs(world.node(box).getX() - 10) < 1e-4
    assert physics.raycast((10, 0, 5), (10, 0, -5)).entity == box  # type: ignore[union-attr]
    assert physics.raycast((0, 0, 5), (0, 0, -5)).entity != box  # type: ignore[union-attr]


def test_a_resting_body_does_not_drift() -> None:
    world, _ = physics_world()
    add_ground(world)
    box = add_box(world, (2, 3, 0.5))
    run(world, 120)
    settled = world.node(box).getPos()
    run(world, 600)
    assert (world.node(box).getPos() - settled).length() < 1e-5


def test_a_collider_alone_makes_a_static_body_that_stops_things() -> None:
    world, physics = physics_world()
    add_ground(world)
    shelf = world.create_entity("shelf")
    world.node(shelf).setPos(0, 0, 2)
    world.add(shelf, Collider(shape="box", size=(2, 2, 0.2)))
    box = add_box(world, (0, 0, 4))
    run(world, 120)
    assert abs(world.node(box).getZ() - 2.6) < 0.02
    assert world.node(shelf).getPos() == (0, 0, 2)
    assert physics.body(shelf).kind == "static"  # type: ignore[union-attr]


def test_child_colliders_are_extra_shapes_of_the_parent_body() -> None:
    world, physics = physics_world()
    add_ground(world)
    dumbbell = world.create_entity("dumbbell")
    world.node(dumbbell).setPos(0, 0, 3)
    world.add(dumbbell, RigidBody(mass=2))
    world.add(dumbbell, Collider(shape="sphere", radius=0.5))
    weight = world.create_entity("weight", parent=dumbbell)
    world.node(weight).setPos(2, 0, 0)
    world.add(weight, Collider(shape="sphere", radius=0.5))
    run(world, 1)
    body = physics.body(dumbbell)
    assert body is not None and body.node.getNumShapes() == 2
    assert physics.body(weight) is None
    hit = physics.raycast((2, 0, 10), (2, 0, -10))
    assert hit is not None and hit.entity == dumbbell and abs(hit.point[2] - 3.5) < 0.05
    run(world, 180)
    assert abs(world.node(dumbbell).getZ() - 0.5) < 0.05
    assert abs(world.node(weight).getZ(world.root) - 0.5) < 0.05


def test_removing_the_parent_body_turns_child_colliders_into_bodies_of_their_own() -> None:
    world, physics = physics_world()
    parent = world.create_entity("parent")
    world.add(parent, RigidBody(kinematic=True))
    child = world.create_entity("child", parent=parent)
    world.node(child).setPos(3, 0, 0)
    world.add(child, Collider(shape="box"))
    run(world, 1)
    assert physics.body(child) is None
    world.remove(parent, RigidBody)
    run(world, 1)
    assert physics.body(child) is not None and physics.body(child).kind == "static"  # type: ignore[union-attr]
    assert physics.body(parent) is None
    assert type(world.node(parent).node()) is PandaNode


def test_layers_and_masks_decide_who_collides() -> None:
    world, physics = physics_world()
    add_ground(world)                                    # layer 0, collides with everything
    ghost_box = add_box(world, (0, 0, 2), name="ghostly")
    world.get(ghost_box, Collider).set_field("layer", 1)  # type: ignore[union-attr]
    world.get(ghost_box, Collider).set_field("mask", 0b10)  # type: ignore[union-attr]
    solid = add_box(world, (3, 0, 2), name="solid")
    run(world, 120)
    assert world.node(ghost_box).getZ() < -5              # mask has no layer 0: falls through the ground
    assert abs(world.node(solid).getZ() - 0.5) < 0.02
    assert physics.raycast((3, 0, 5), (3, 0, -5), layers=0b10) is None
    assert physics.raycast((3, 0, 5), (3, 0, -5), layers=0b01).entity == solid  # type: ignore[union-attr]


def test_bodies_bullet_does_not_move_get_no_contacts_among_themselves() -> None:
    """Static, kinematic and character bodies never collide with one another in Bullet's step (no
    response could come of it; see engine/physics/layers.py); each still meets dynamic bodies."""
    from engine.physics import CharacterController

    world, physics = physics_world()
    add_ground(world)
    add_box(world, (0, 0, 0.5), name="crate")
    add_box(world, (3, 0, 0.49), name="lift", kinematic=True)
    walker = world.create_entity("walker")
    world.node(walker).setPos(6, 0, 0.5)
    world.add(walker, CharacterController())
    run(world, 30)
    assert world.get(walker, CharacterController).grounded  # type: ignore[union-attr]
    pairs = {frozenset((m.getNode0().getName(), m.getNode1().getName())) for m in physics.bullet.getManifolds()}
    assert frozenset(("crate", "ground")) in pairs
    assert frozenset(("lift", "ground")) not in pairs and frozenset(("walker", "ground")) not in pairs
    world.node(walker).setPos(0.85, 0, 0)                  # into the crate's side: Bullet pushes the crate
    run(world, 1)
    pairs = {frozenset((m.getNode0().getName(), m.getNode1().getName())) for m in physics.bullet.getManifolds()
             if m.getNumManifoldPoints()}
    assert frozenset(("crate", "walker")) in pairs


def test_body_settings_change_how_bodies_move() -> None:
    world, physics = physics_world()
    add_ground(world)
    floating = add_box(world, (0, 0, 3), name="floating", gravity_scale=0.0)
    damped = add_box(world, (5, 0, 10), name="damped", linear_damping=0.9)
    plain = add_box(world, (10, 0, 10), name="plain")
    bouncy = world.create_entity("bouncy")
    world.node(bouncy).setPos(15, 0, 3)
    world.add(bouncy, RigidBody(restitution=0.9))
    world.add(bouncy, Collider(shape="sphere"))
    for eid in (damped, plain):
        world.get(eid, RigidBody).ccd = True  # type: ignore[union-attr]
        physics.refresh(eid)
    run(world, 60)
    assert world.node(floating).getZ() == 3
    assert world.node(damped).getZ() > world.node(plain).getZ() + 1.0
    peak_after_bounce, landed = 0.0, False
    for _ in range(120):
        world.tick(DT)
        z = world.node(bouncy).getZ()
        landed = landed or z < 0.6
        if landed:
            peak_after_bounce = max(peak_after_bounce, z)
    assert peak_after_bounce > 1.5


def test_fast_ccd_body_does_not_tunnel_through_a_thin_wall() -> None:
    world, physics = physics_world()
    wall = world.create_entity("wall")
    world.node(wall).setPos(5, 0, 0)
    world.add(wall, Collider(shape="box", size=(0.05, 4, 4)))
    bullet = world.create_entity("bullet")
    world.add(bullet, RigidBody(mass=0.05, gravity_scale=0.0, ccd=True))
    world.add(bullet, Collider(shape="sphere", radius=0.05))
    run(world, 1)
    physics.set_velocity(bullet, (400, 0, 0))
    run(world, 30)
    assert world.node(bullet).getX() < 5


def test_mesh_and_hull_colliders_use_the_mesh_renderer_model() -> None:
    world, physics = physics_world()
    floor = world.create_entity("floor")
    world.node(floor).setScale(20, 20, 1)
    world.add(floor, MeshRenderer(model="primitive:plane"))
    world.add(floor, Collider(shape="mesh"))
    rock = world.create_entity("rock")
    world.node(rock).setPos(0, 0, 3)
    world.add(rock, MeshRenderer(model="primitive:sphere"))
    world.add(rock, RigidBody())
    world.add(rock, Collider(shape="hull"))
    run(world, 180)
    assert physics.body(floor).kind == "static"  # type: ignore[union-attr]
    assert abs(world.node(rock).getZ() - 0.5) < 0.06
    hit = physics.raycast((8, 8, 5), (8, 8, -5))
    assert hit is not None and hit.entity == floor and abs(hit.point[2]) < 1e-3


def test_bodies_work_beside_the_render_system_and_follow_model_changes(runtime) -> None:  # type: ignore[no-untyped-def]
    world = runtime.new_world()
    physics = world.add_system(PhysicsSystem())
    add_ground(world)
    rock = world.create_entity("rock")
    world.node(rock).setPos(0, 0, 3)
    renderer = world.add(rock, MeshRenderer(model="primitive:box"))
    world.add(rock, RigidBody())
    world.add(rock, Collider(shape="hull"))
    run(world, 120)
    drawn = world.node(rock).find("mesh")
    assert not drawn.isEmpty() and abs(drawn.getZ(world.root) - 0.5) < 0.02   # the drawn mesh moved along
    world.set_field(rock, renderer, "model", "primitive:sphere")
    run(world, 1)
    hit = physics.raycast((0.45, 0.45, 5), (0.45, 0.45, -5))
    assert hit is not None and hit.entity == world.find("ground")   # a sphere's hull misses the box's corner


def test_heightfield_collider_reads_a_grey_image_from_a_pack(pack_runtime, tmp_pack) -> None:  # type: ignore[no-untyped-def]
    from panda3d.core import Filename, PNMImage

    image = PNMImage(17, 17, 1)
    for x in range(17):
        for y in range(17):
            image.setGray(x, y, x / 16)                  # a ramp rising towards +X
    path = tmp_pack.root / "terrain" / "ramp.png"
    path.parent.mkdir(parents=True)
    image.write(Filename.fromOsSpecific(str(path)))
    world, physics = physics_world()
    world.services["runtime"] = pack_runtime
    terrain = world.create_entity("terrain")
    world.add(terrain, Collider(shape="heightfield", heightfield=tmp_pack.asset_id("terrain/ramp.png"),
                                size=(32.0, 32.0, 8.0)))
    for x, expected in ((-16.0, 0.0), (0.0, 4.0), (8.0, 6.0)):
        hit = physics.raycast((x, 0, 50), (x, 0, -50))
        assert hit is not None and hit.entity == terrain
        assert math.isclose(hit.point[2], expected, abs_tol=0.05)   # 8-bit grey steps are 8/255 m


def test_destroying_an_entity_removes_its_body_and_the_world_goes_on() -> None:
    world, physics = physics_world()
    add_ground(world)
    box = add_box(world, (0, 0, 1))
    run(world, 5)
    assert physics.body_count() == 2
    world.destroy(box)
    run(world, 5)
    assert physics.body_count() == 1
    assert physics.raycast((0, 0, 5), (0, 0, 0.1)) is None


def test_removing_the_rigid_body_gives_back_a_plain_node_in_place() -> None:
    world, physics = physics_world()
    box = add_box(world, (1, 2, 3))
    run(world, 1)
    world.remove(box, RigidBody)
    world.remove(box, Collider)
    run(world, 1)
    assert type(world.node(box).node()) is PandaNode
    assert world.entity_at_node(world.node(box)) == box
    assert physics.body_count() == 0


def test_gravity_comes_from_the_world_settings_when_they_have_it() -> None:
    world, _ = physics_world()

    class Settings:
        gravity = (0.0, 0.0, 9.81)

    world.settings["world"] = Settings()
    box = add_box(world, (0, 0, 0))
    run(world, 30)
    assert world.node(box).getZ() > 1.0


def test_registry_knows_the_physics_components() -> None:
    registry = physics_registry()
    for name in ("RigidBody", "Collider", "Trigger", "CharacterController", "Joint"):
        assert registry.resolve(name).type_name == name
    collider = Collider(shape="capsule", radius=0.3, height=1.5, layer=3)
    assert Collider(**collider.to_data()).to_data() == collider.to_data()
