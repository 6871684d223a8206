"""Interest management (a client gets only the moving entities near its player, so what it gets
does not grow with the world) and lag compensation (hit tests against where characters were)."""
from __future__ import annotations

from engine.core.edit_commands import CreateEntity
from engine.host.runtime import create_runtime
from engine.physics.components import CharacterController
from netcode.auth import TokenAuthority
from netcode.lag_compensation import LagHistory
from netcode.replication import InterestGrid
from netcode.server import NetServer, ServerConfig
from tests.net_helpers import SECRET, join, run, tick_until


def crate_world(side: int, spacing: float = 10.0):
    runtime = create_runtime()
    world = runtime.new_world(profile="server", name=f"crates {side}x{side}")
    records = []
    half = (side - 1) * spacing / 2
    for i in range(side * side):
        row, col = divmod(i, side)
        records.append({"id": 100 + i, "name": f"crate {i}", "parent": 0,
                        "transform": {"pos": [col * spacing - half, row * spacing - half, 0.5]},
                        "components": [["RigidBody", {"kinematic": True}], ["Collider", {}]]})
    world.apply(CreateEntity(records))
    return world


def test_a_client_gets_the_same_few_entities_however_big_the_world() -> None:
    async def scenario(side: int) -> tuple[int, int]:
        server = NetServer(crate_world(side), TokenAuthority(SECRET),
                           ServerConfig(interest=InterestGrid(cell=16.0, radius=1)))
        await server.start()
        try:
            client = await join(server, "ann")
            await tick_until([client], lambda: client.state.snapshots > 6, 400)
            crates = [e for e in client.world.entities() if 100 <= e < 100 + side * side]
            session = server.sessions["ann"]
            return len(crates), session.bytes_out
        finally:
            await server.stop()

    small_count, small_bytes = run(scenario(10))     # 100 crates over 90 m
    big_count, big_bytes = run(scenario(30))         # 900 crates over 290 m
    assert 0 < small_count <= 49 and small_count == big_count
    assert big_bytes < small_bytes * 1.5             # what it was sent barely grows with nine times the world


def test_entities_are_spawned_and_despawned_as_the_player_moves() -> None:
    async def scenario() -> None:
        from engine.core.edit_commands import SetTransform

        server = NetServer(crate_world(20), TokenAuthority(SECRET), ServerConfig(interest=InterestGrid(cell=16.0, radius=1)))
        await server.start()
        try:
            client = await join(server, "ann")
            await tick_until([client], lambda: client.state.snapshots > 3, 300)
            player = client.state.entity
            crates = lambda: {e for e in client.world.entities() if 100 <= e < 500}  # noqa: E731
            near_origin = crates()
            server.world.apply(SetTransform(player, pos=[80.0, 80.0, 0.0]))
            moved = lambda: crates() not in (near_origin, set())  # noqa: E731
            await tick_until([client], moved, 300)
            now = crates()
            assert now and not (now & near_origin), str((sorted(now), sorted(near_origin)))
        finally:
            await server.stop()
    run(scenario())


def test_lag_compensation_rewinds_hit_tests_up_to_one_second() -> None:
    runtime = create_runtime()
    world = runtime.new_world(profile="server")
    target = world.create_entity("target")
    world.add(target, CharacterController(radius=0.5, height=2.0))
    history = LagHistory(world, 60.0, seconds=1.0)
    for tick in range(1, 121):                     # the target walks along x, 0.1 m a tick
        world.node(target).setPos(tick * 0.1, 10.0, 0.0)
        history.record(tick)
    # a shot along +y at x = 9 (where the target was at tick 90) from the shooter at the origin
    hit = history.hit_test((9.0, 0.0, 1.0), (0.0, 1.0, 0.0), 50.0, at_tick=90)
    assert hit is not None and hit.entity == target and abs(hit.distance - 9.5) < 0.01
    assert history.hit_test((9.0, 0.0, 1.0), (0.0, 1.0, 0.0), 50.0, at_tick=120) is None  # it has moved on
    # asking for two seconds back is clamped to one: the target then was at x = 6
    assert history.at(0)[0] == 60
    assert history.hit_test((6.0, 0.0, 1.0), (0.0, 1.0, 0.0), 50.0, at_tick=0) is not None
    assert history.hit_test((6.0, 0.0, 1.0), (0.0, 1.0, 0.0), 50.0, at_tick=0, ignore=[target]) is None
