"""A recorded session (two players walking into crates, chat, a command, one leaving) replays to
the same state, tick by tick digest for digest; seeking and the transcript; bad files are refused."""
from __future__ import annotations

import json

import pytest

from engine.core.commands import command_to_json
from engine.core.edit_commands import SetFields
from engine.core.errors import DataError
from engine.host.runtime import create_runtime
from engine.input.input_system import InputSystem
from engine.input.sources import DirectActionSource
from netcode.hosting import open_world
from netcode.recording import SessionRecorder, SessionReplay, is_session_recording, load_recording, transcript
from tests.net_helpers import DEMO_WORLD, join, run, tick_until


def record_session(path) -> None:
    async def scenario() -> None:
        runtime = create_runtime()
        world = open_world(str(DEMO_WORLD), runtime)
        recorder = SessionRecorder(path, world, str(DEMO_WORLD))
        from netcode.auth import TokenAuthority
        from netcode.server import NetServer, ServerConfig
        from tests.net_helpers import SECRET

        server = NetServer(world, TokenAuthority(SECRET), ServerConfig(grace=0.0), recorder=recorder)
        await server.start()
        try:
            ann = await join(server, "ann", permissions=("play", "chat", "command"))
            bob = await join(server, "bob")
            for client, move in ((ann, (0.4, -0.8)), (bob, (1.0, 0.2))):
                source = DirectActionSource()
                source.set_vector("move", move)
                source.hold("run")
                client.world.system(InputSystem).set_source(source)
            await tick_until([ann, bob], lambda: False, 120)
            ann.chat("crates, here I come")
            crate = server.world.find("Physics crate 3")
            ann.command(command_to_json(SetFields(crate, "RigidBody", {"mass": 2.0})))
            await tick_until([ann, bob], lambda: False, 120)
            await bob.close()
            await tick_until([ann], lambda: "bob" not in server.sessions, 300)
            # at least 330 server ticks (five digests): a loaded machine's server runs behind real time
            await tick_until([ann], lambda: server.world.tick_count >= 330, 1200)
            await tick_until([ann], lambda: False, 30)
            await ann.close()
        finally:
            await server.stop()
    run(scenario())


def test_a_recorded_session_replays_to_the_same_state(tmp_path) -> None:
    path = tmp_path / "session.stormrec"
    record_session(path)
    assert is_session_recording(path) and not (tmp_path / "session.stormrec.part").exists()
    recording = load_recording(path)
    digests = list(recording.at("digest"))
    assert len(digests) >= 5 and any("join" in line for line in recording.lines)
    replay = SessionReplay(recording, create_runtime())
    end = replay.run()
    assert end == recording.end
    assert replay.mismatches == []
    text = transcript(recording)
    assert any("ann: crates, here I come" in line for line in text)
    assert any("bob left" in line for line in text) and any("ran SetFields" in line for line in text)
    # seeking: run to the middle, then on; the same end state
    again = SessionReplay(recording, create_runtime())
    again.run(until=recording.header["start"] + 150)
    assert again.tick == recording.header["start"] + 150
    again.run()
    assert again.mismatches == []


def test_a_changed_recording_is_noticed(tmp_path) -> None:
    path = tmp_path / "session.stormrec"
    record_session(path)
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        data = json.loads(line)
        if "in" in data and data["in"] == "ann":
            data["f"]["o"][0] = [0.0, 1.0, 0.0]
            data["f"]["hd"] = 90.0
            lines[i] = json.dumps(data)
    path.write_text("\n".join(lines) + "\n")
    replay = SessionReplay(load_recording(path), create_runtime())
    replay.run()
    assert replay.mismatches  # ann went elsewhere: the digests say so


@pytest.mark.parametrize("text, where", [
    ("", "line 1"),
    ('{"storm_session": 2, "world": "w", "seed": 0, "tick_rate": 60, "start": 0}\n', "line 1"),
    ('{"storm_session": 1, "world": "w", "seed": 0, "tick_rate": 60, "start": 0}\n{"t": 5}\n', "line 2"),
    ('{"storm_session": 1, "world": "w", "seed": 0, "tick_rate": 60, "start": 0}\n{"t": 5, "chat": "a"}\n'
     '{"t": 3, "chat": "b"}\n', "line 3"),
    ('{"storm_session": 1, "world": "w", "seed": 0, "tick_rate": 60, "start": 0}\n{"t": 0, "in": "a", "f": 5}\n{"t": 3, "chat": "a"}\n', "input frame"),
])
def test_bad_recordings_are_refused_naming_the_line(tmp_path, text: str, where: str) -> None:
    path = tmp_path / "bad.stormrec"
    path.write_text(text)
    with pytest.raises(DataError, match=where):
        recording = load_recording(path)
        SessionReplay(recording, create_runtime(), world_path=str(DEMO_WORLD)).run()
