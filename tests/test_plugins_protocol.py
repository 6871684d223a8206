"""The pipe to a sandboxed plugin is hostile input: framing limits, strict JSON, message shapes;
whatever a plugin writes on it stops that plugin alone with a report. And the world gate: what
each permission opens, over the pipe, with commands applied by the host."""
from __future__ import annotations

import json
import socket
import struct
import time
from typing import Callable

import pytest

from engine.core.edit_commands import AddComponent
from engine.core.world import World
from engine.host.runtime import Runtime
from plugins.host import PluginHost
from plugins.ipc import MAX_MESSAGE, Channel, ChannelClosed, ProtocolError, decode, encode
from tests.plugin_helpers import PluginPack

PackFactory = Callable[..., PluginPack]
HostFactory = Callable[..., PluginHost]


# -- framing ------------------------------------------------------------------------------------
def test_messages_round_trip_over_a_socket_pair() -> None:
    left, right = socket.socketpair()
    a, b = Channel(left), Channel(right)
    a.send({"op": "log", "text": "héllo", "n": [1, 2.5, None, True]})
    a.send({"op": "second"})
    assert b.receive() == {"op": "log", "text": "héllo", "n": [1, 2.5, None, True]}
    assert b.receive() == {"op": "second"}
    left.close()
    with pytest.raises(ChannelClosed):
        b.receive()


@pytest.mark.parametrize(("body", "expected"), [
    (b"{not json", "UTF-8 JSON"),
    (b"\xff\xfe", "UTF-8 JSON"),
    (b"[1, 2]", "a JSON object"),
    (b'{"x": NaN}', "UTF-8 JSON"),
    (b'{"x": Infinity}', "UTF-8 JSON"),
    (b"[" * 200_000, "UTF-8 JSON"),
    (b'{"x": ' + b"9" * 5000 + b"}", "UTF-8 JSON"),
], ids=["not-json", "not-utf8", "not-an-object", "nan", "infinity", "deep-nesting", "huge-int"])
def test_bad_message_bodies_are_refused(body: bytes, expected: str) -> None:
    with pytest.raises(ProtocolError, match=expected):
        decode(body)


def test_oversized_messages_are_refused_both_ways() -> None:
    with pytest.raises(ProtocolError, match="at most 100 bytes"):
        encode({"text": "x" * 200}, max_message=100)
    with pytest.raises(ProtocolError, match="JSON data"):
        encode({"value": float("nan")})
    left, right = socket.socketpair()
    left.sendall(struct.pack(">I", MAX_MESSAGE + 1))
    with pytest.raises(ProtocolError, match="header saying"):
        Channel(right).receive()


def test_a_deadline_already_past_raises_timeout_without_waiting() -> None:
    left, right = socket.socketpair()
    with pytest.raises(TimeoutError):
        Channel(right).receive(time.monotonic() - 1)


# -- a plugin that writes garbage on its pipe -----------------------------------------------------
def _raw(payload: bytes) -> str:
    return f"""
import os, sys

def storm_cli_commands():
    return [{{"name": "run"}}]

def storm_cli_run(command, args):
    os.write(int(sys.argv[1]), {payload!r})
    return "not reached"
"""


def _framed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


GARBAGE = {
    "oversized-header": struct.pack(">I", 2**31),
    "not-json": _framed(b"{nope"),
    "not-an-object": _framed(b"[1, 2, 3]"),
    "nan": _framed(b'{"op": "log", "level": "info", "text": NaN}'),
    "deep-nesting": _framed(b"[" * 100_000),
    "unknown-op": _framed(json.dumps({"op": "become_root"}).encode()),
    "bad-result": _framed(json.dumps({"op": "result", "id": "one", "results": 5}).encode()),
    "bad-violation": _framed(json.dumps({"op": "violation", "kind": "none of your business"}).encode()),
    "wrong-result-count": _framed(json.dumps({"op": "result", "id": 1, "results": [1, 2, 3]}).encode()),
}


@pytest.mark.parametrize("payload", list(GARBAGE.values()), ids=list(GARBAGE))
def test_garbage_on_the_pipe_stops_that_plugin_alone(plugin_pack: PackFactory, make_host: HostFactory,
                                                     payload: bytes) -> None:
    vandal = plugin_pack("vandal", _raw(payload))
    calm = plugin_pack("calm", 'def storm_cli_commands():\n    return [{"name": "ping"}]\n'
                               'def storm_cli_run(command):\n    return "pong"\n')
    host = make_host(vandal, calm)
    code, text = host.engine.run_cli("vandal:run", [])
    assert code == 1
    assert host.failures[0].plugin == "vandal" and host.failures[0].kind == "protocol", text
    assert "not reached" not in text
    assert host.engine.run_cli("calm:ping", []) == (0, "pong")


def test_a_forged_ready_message_while_loading_is_refused(plugin_pack: PackFactory, make_host: HostFactory) -> None:
    forged = json.dumps({"op": "ready", "hooks": {"storm_become_root": 1}, "confinement": {}}).encode()
    liar = plugin_pack("liar", f"import os, sys\nos.write(int(sys.argv[1]), {_framed(forged)!r})\n")
    host = make_host(liar)
    assert host.records["liar"].status == "failed"
    assert host.failures[0].kind == "protocol" and "ready.hooks" in host.failures[0].message


# -- the world gate over the pipe -------------------------------------------------------------------
GATE = """
from plugins.api import CommandRefused, PermissionDenied, RequestError

def storm_cli_commands():
    return [{"name": "try"}]

def storm_cli_run(command, args, world):
    out = []
    for what in args:
        try:
            if what == "read":
                out.append(f"lights {world.query('Light')}")
            elif what == "get":
                out.append(f"intensity {world.get(1, 'Light')['intensity']}")
            elif what == "write":
                inverse = world.apply({"command": "Rename", "entity": 1, "name": "renamed by plugin"})
                out.append(f"inverse {inverse['command']} {inverse['name']}")
            elif what == "post":
                world.post({"command": "Rename", "entity": 1, "name": "posted"})
                out.append("posted")
            elif what == "refused":
                world.apply({"command": "Rename", "entity": 999, "name": "x"})
            elif what == "unknown-type":
                world.query("NoSuchThing")
            elif what == "odd-request":
                world._request("spawn_shell", {})
            elif what == "bad-command":
                world.apply({"command": "os.system", "args": "rm -rf /"})
        except (PermissionDenied, CommandRefused, RequestError) as exc:
            out.append(f"{type(exc).__name__}: {exc}")
    return " | ".join(out)
"""


@pytest.fixture
def lit_world(runtime: Runtime) -> World:
    world = runtime.new_world()
    lamp = world.create_entity("lamp")
    world.apply(AddComponent(lamp, "Light", {"kind": "point", "intensity": 2.5}))
    return world


def test_without_permissions_the_world_is_out_of_reach(plugin_pack: PackFactory, make_host: HostFactory,
                                                       runtime: Runtime, lit_world: World) -> None:
    host = make_host(plugin_pack("nosy", GATE), runtime=runtime)
    with host.using(lit_world):
        code, text = host.engine.run_cli("nosy:try", ["read", "write"])
    assert code == 0
    assert "PermissionDenied: plugin 'nosy' has no world_read permission" in text
    assert "has no world_write permission" in text
    assert lit_world.name_of(1) == "lamp"
    assert host.records["nosy"].gate.denied == 2


def test_world_read_answers_queries_and_world_write_applies_commands(plugin_pack: PackFactory, make_host: HostFactory,
                                                                     runtime: Runtime, lit_world: World) -> None:
    host = make_host(plugin_pack("editor", GATE, permissions={"world_read": "finds lights",
                                                              "world_write": "renames them"}), runtime=runtime)
    with host.using(lit_world):
        code, text = host.engine.run_cli("editor:try", ["read", "get", "write", "refused", "unknown-type",
                                                        "odd-request", "bad-command", "post"])
    parts = text.split(" | ")
    assert code == 0
    assert parts[0] == "lights [1]" and parts[1] == "intensity 2.5"
    assert parts[2] == "inverse Rename lamp" and lit_world.name_of(1) == "renamed by plugin"
    assert parts[3].startswith("CommandRefused: Rename(entity 999, name 'x'): no entity 999")
    assert parts[4].startswith("RequestError: type: unknown component type 'NoSuchThing'")
    assert parts[5].startswith("RequestError: a request among info, entities")
    assert parts[6].startswith("CommandRefused: plugin 'editor': a command type")
    assert parts[7] == "posted" and lit_world.name_of(1) == "renamed by plugin"
    lit_world.tick()  # posted commands apply at the start of the next tick
    assert lit_world.name_of(1) == "posted"
    assert host.failures == []
