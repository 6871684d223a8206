"""Prediction and reconciliation over a lossy path (a proxy the test starts: 50 ms each way, 10 ms
jitter, 5% of snapshots and inputs lost): the local player moves at once, agrees with the
server, and is put right when the server moves it; other players are interpolated."""
from __future__ import annotations

from engine.core.edit_commands import SetTransform
from engine.input.input_system import InputSystem
from engine.input.sources import DirectActionSource
from engine.physics.components import CharacterController
from tests.net_helpers import join, run, start_server, tick_until
from tests.net_proxy import LossyProxy


def test_prediction_and_reconciliation_under_latency_jitter_and_loss() -> None:
    async def scenario() -> None:
        server = await start_server()
        proxy = LossyProxy(f"ws://127.0.0.1:{server.port}", latency=0.05, jitter=0.01, loss=0.05, seed=3)
        await proxy.start()
        try:
            ann = await join(proxy.url, "ann")
            bob = await join(proxy.url, "bob")
            a = ann.state.entity
            landed = lambda: server.world.get(a, CharacterController).grounded  # noqa: E731
            await tick_until([ann, bob], lambda: landed() and ann.state.snapshots > 5, 400)
            source = DirectActionSource()
            ann.world.system(InputSystem).set_source(source)
            source.set_vector("move", (0.0, 1.0))
            before = ann.world.node(a).getPos()
            await tick_until([ann, bob], lambda: False, 3)
            # prediction: ann's own player moved on her screen before any server reply could come back
            assert (ann.world.node(a).getPos() - before).getXy().length() > 0.05
            await tick_until([ann, bob], lambda: False, 90)
            source.set_vector("move", (1.0, 0.0))
            await tick_until([ann, bob], lambda: False, 60)
            source.clear()
            server_at = lambda: server.world.node(a).getPos()  # noqa: E731
            agree = lambda: (ann.world.node(a).getPos() - server_at()).length() < 0.02  # noqa: E731
            await tick_until([ann, bob], agree, 120)
            assert agree(), (ann.world.node(a).getPos(), server_at())
            assert proxy.dropped > 0
            predictor = ann.state.predictor
            assert predictor.corrections <= 10, predictor.corrections  # redundant inputs: loss rarely shows
            # bob sees ann where the server has her (interpolated, 100 ms behind, she stands still now)
            sees = lambda: (bob.world.node(a).getPos() - server_at()).length() < 0.01  # noqa: E731
            await tick_until([ann, bob], sees, 120)
            assert sees()
            # the server moves ann (a teleport her prediction knows nothing about): she is put right
            corrections = predictor.corrections
            target = server_at() + (3.0, 0.0, 0.0)
            server.world.apply(SetTransform(a, pos=[target.x, target.y, target.z]))
            await tick_until([ann, bob], agree, 240)
            assert agree() and predictor.corrections > corrections
            await ann.close()
            await bob.close()
        finally:
            await proxy.stop()
            await server.stop()
    run(scenario())
