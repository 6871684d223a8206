"""Real sockets on 127.0.0.1: two players join the demo world, see each other walk, push a crate
and chat; the server alone moves entities; prediction stays with the server."""
from __future__ import annotations

from engine.input.input_system import InputSystem
from engine.input.sources import DirectActionSource
from engine.physics.components import CharacterController
from tests.net_helpers import join, run, start_server, tick_until


def walk(client, vector=(0.0, 1.0)) -> DirectActionSource:
    source = DirectActionSource()
    source.set_vector("move", vector)
    client.world.system(InputSystem).set_source(source)
    return source


def test_two_players_see_each_other_walk_and_chat() -> None:
    async def scenario() -> None:
        server = await start_server()
        try:
            ann = await join(server, "ann")
            bob = await join(server, "bob")
            a_id, b_id = ann.state.entity, bob.state.entity
            assert a_id != b_id
            await tick_until([ann, bob], lambda: ann.world.exists(b_id) and bob.world.exists(a_id), 300)
            assert ann.world.exists(b_id) and bob.world.exists(a_id)
            landed = lambda: server.world.get(a_id, CharacterController).grounded  # noqa: E731
            await tick_until([ann, bob], landed, 300)
            await tick_until([ann, bob], lambda: False, 20)  # bob's view catches up (100 ms behind)
            start = bob.world.node(a_id).getPos()
            server_start = server.world.node(a_id).getPos()
            walk(ann)
            moved = lambda: (bob.world.node(a_id).getPos() - start).getXy().length() > 1.0  # noqa: E731
            await tick_until([ann, bob], moved, 1800)   # a loaded machine ticks the server late: room, not speed
            assert moved(), "bob sees ann walk"
            server_pos = server.world.node(a_id).getPos()
            assert (server_pos - server_start).getXy().length() > 1.0
            ann.chat("hello bob")
            await tick_until([ann, bob], lambda: all(("ann", "hello bob") in c.state.chat for c in (ann, bob)), 300)
            assert ("ann", "hello bob") in bob.state.chat and ("ann", "hello bob") in ann.state.chat
            # the prediction of ann's own player agrees with the server within a few centimetres
            assert ann.state.predictor.last_error < 0.05
            await ann.close()
            await bob.close()
        finally:
            await server.stop()
    run(scenario())
