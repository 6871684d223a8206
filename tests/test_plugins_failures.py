"""A plugin that raises, loops, sleeps, eats memory or dies is stopped alone and reported with its
name, file and line, while the world and the other plugins go on; a changed plugin restarts
alone. Real child processes throughout."""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import pytest

from engine.host.runtime import Runtime
from plugins.host import PluginHost
from plugins.reports import PluginFailure
from tests.plugin_helpers import TEST_LIMITS, PluginPack

PackFactory = Callable[..., PluginPack]
HostFactory = Callable[..., PluginHost]

# A plugin that shows it is alive: it renames entity 1 every tick.
STEADY = """
def storm_update(tick, world):
    world.apply({"command": "Rename", "entity": 1, "name": f"tick {tick}"})
"""
WRITE = {"world_write": "names the marker entity after the tick"}


def only_failure(host: PluginHost) -> PluginFailure:
    assert len(host.failures) == 1, [str(f) for f in host.failures]
    return host.failures[0]


def run_ticks(runtime: Runtime, count: int) -> tuple[object, int]:
    world = runtime.new_world()
    marker = world.create_entity("marker")
    for _ in range(count):
        world.tick()
    return world, marker


@pytest.mark.parametrize("trusted", [False, True], ids=["sandboxed", "trusted"])
def test_a_plugin_that_raises_is_stopped_and_named_with_its_file_and_line(
        plugin_pack: PackFactory, make_host: HostFactory, runtime: Runtime, trusted: bool) -> None:
    boom = plugin_pack("boom", """
        def ratio(n):
            return 10 / n  # BOOM

        def storm_update(tick):
            if tick == 2:
                ratio(0)
    """)
    steady = plugin_pack("steady", STEADY, permissions=WRITE)
    host = make_host(boom, steady, runtime=runtime, trusted=("boom", "steady") if trusted else ())
    world, marker = run_ticks(runtime, 5)
    failure = only_failure(host)
    assert (failure.plugin, failure.kind, failure.hook) == ("boom", "raised", "storm_update")
    assert (failure.file, failure.line) == (str(boom.entry.resolve()), boom.line_of("# BOOM"))
    assert str(failure).startswith(f"plugin 'boom' raised in storm_update ({boom.entry.resolve()}, line "
                                   f"{boom.line_of('# BOOM')}): ZeroDivisionError: division by zero")
    assert host.records["boom"].status == "failed"
    assert world.name_of(marker) == "tick 4"  # the other plugin ran every tick, to the last


def test_a_plugin_that_loops_for_ever_is_stopped_by_its_cpu_limit(
        plugin_pack: PackFactory, make_host: HostFactory, runtime: Runtime) -> None:
    spin = plugin_pack("spin", """
        def storm_update(tick):
            n = 0
            while True:
                try:
                    n += 1  # SPIN
                except Exception:
                    pass  # a broad except cannot swallow the CPU limit
    """)
    steady = plugin_pack("steady", STEADY, permissions=WRITE)
    host = make_host(spin, steady, runtime=runtime)
    world, marker = run_ticks(runtime, 3)
    failure = only_failure(host)
    assert (failure.plugin, failure.kind, failure.hook) == ("spin", "cpu", "storm_update")
    assert failure.file == str(spin.entry.resolve())
    assert failure.line in (spin.line_of("# SPIN") - 2, spin.line_of("# SPIN") - 1, spin.line_of("# SPIN"))
    assert "more than 1 s of CPU time in one call" in str(failure)
    assert world.name_of(marker) == "tick 2"


def test_the_cpu_limit_is_per_call_so_a_busy_plugin_may_use_more_in_all(
        plugin_pack: PackFactory, make_host: HostFactory, runtime: Runtime) -> None:
    busy = plugin_pack("busy", """
        import time

        def storm_update(tick, world):
            start = time.process_time()
            while time.process_time() - start < 0.6:  # 0.6 s of CPU, under the 1 s a call may use
                pass
            world.apply({"command": "Rename", "entity": 1, "name": f"tick {tick}"})
    """, permissions=WRITE)
    host = make_host(busy, runtime=runtime)
    world, marker = run_ticks(runtime, 5)  # 3 s of CPU in all
    assert host.failures == [] and world.name_of(marker) == "tick 4"


def test_a_plugin_that_blocks_is_stopped_at_the_hosts_deadline_with_its_line(
        plugin_pack: PackFactory, make_host: HostFactory) -> None:
    nap = plugin_pack("nap", """
        import time

        def storm_cli_commands():
            return [{"name": "nap"}]

        def storm_cli_run(command, args):
            time.sleep(3600)  # NAP
    """)
    host = make_host(nap, limits=replace(TEST_LIMITS, call_timeout=1.0))
    code, text = host.engine.run_cli("nap:nap", [])
    failure = only_failure(host)
    assert (code, failure.kind, failure.hook) == (1, "timeout", "storm_cli_run")
    assert (failure.file, failure.line) == (str(nap.entry.resolve()), nap.line_of("# NAP"))
    assert "no answer within 1 s" in text


def test_a_plugin_that_ignores_the_deadline_signal_is_killed(plugin_pack: PackFactory, make_host: HostFactory) -> None:
    stubborn = plugin_pack("stubborn", """
        import signal, time

        def storm_cli_commands():
            return [{"name": "wait"}]

        def storm_cli_run(command, args):
            signal.signal(signal.SIGUSR1, signal.SIG_IGN)
            time.sleep(3600)
    """)
    host = make_host(stubborn, limits=replace(TEST_LIMITS, call_timeout=1.0))
    pid = host.records["stubborn"].handle.pid
    assert host.engine.run_cli("stubborn:wait", [])[0] == 1
    failure = only_failure(host)
    assert failure.kind == "timeout" and "none after SIGUSR1 either" in failure.message
    with pytest.raises(ProcessLookupError):
        import os

        os.kill(pid, 0)  # the process is gone (reaped by the host)


def test_a_plugin_that_allocates_without_end_is_stopped_by_its_memory_limit(
        plugin_pack: PackFactory, make_host: HostFactory, runtime: Runtime) -> None:
    hoard = plugin_pack("hoard", """
        kept = []

        def storm_update():
            while True:
                kept.append(bytearray(8 << 20))  # HOARD
    """)
    steady = plugin_pack("steady", STEADY, permissions=WRITE)
    host = make_host(hoard, steady, runtime=runtime)
    world, marker = run_ticks(runtime, 3)
    failure = only_failure(host)
    assert (failure.plugin, failure.kind) == ("hoard", "memory")
    assert (failure.file, failure.line) == (str(hoard.entry.resolve()), hoard.line_of("# HOARD"))
    assert "MemoryError (its limit is 256 MiB)" in str(failure)
    assert world.name_of(marker) == "tick 2"


def test_a_plugin_whose_process_dies_is_reported(plugin_pack: PackFactory, make_host: HostFactory,
                                                 runtime: Runtime) -> None:
    quitter = plugin_pack("quitter", """
        import os

        def storm_update(tick):
            if tick == 1:
                os._exit(3)
    """)
    steady = plugin_pack("steady", STEADY, permissions=WRITE)
    host = make_host(quitter, steady, runtime=runtime)
    world, marker = run_ticks(runtime, 3)
    failure = only_failure(host)
    assert (failure.plugin, failure.kind, failure.hook) == ("quitter", "crashed", "storm_update")
    assert "its process ended (exit status 3)" in str(failure)
    assert world.name_of(marker) == "tick 2"


def test_a_plugin_that_fails_while_loading_names_the_line(plugin_pack: PackFactory, make_host: HostFactory) -> None:
    broken = plugin_pack("broken", """
        import json
        SETTINGS = json.loads("{not json")  # LOAD
    """)
    typo = plugin_pack("typo", """
        def storm_update(dt):
            return (dt  # SYNTAX
    """)
    host = make_host(broken, typo)
    by_plugin = {f.plugin: f for f in host.failures}
    assert by_plugin["broken"].kind == "load" and by_plugin["broken"].line == broken.line_of("# LOAD")
    assert "JSONDecodeError" in by_plugin["broken"].message
    assert by_plugin["typo"].kind == "load" and by_plugin["typo"].file == str(typo.entry.resolve())
    assert "SyntaxError" in by_plugin["typo"].message
    assert host.running() == []


VERSIONED = """
calls = 0

def storm_cli_commands():
    return [{"name": "who"}]

def storm_cli_run(command, args):
    global calls
    calls += 1
    return f"%s after {calls} calls"
"""


def test_a_changed_plugin_restarts_alone(plugin_pack: PackFactory, make_host: HostFactory) -> None:
    alpha = plugin_pack("alpha", VERSIONED % "alpha v1")
    beta = plugin_pack("beta", VERSIONED % "beta v1")
    host = make_host(alpha, beta)
    assert host.engine.run_cli("alpha:who", []) == (0, "alpha v1 after 1 calls")
    assert host.engine.run_cli("beta:who", []) == (0, "beta v1 after 1 calls")
    pids = {pid: host.records[pid].handle.pid for pid in ("alpha", "beta")}
    assert host.reload_changed() == []
    alpha.write_code(VERSIONED % "alpha v2")
    assert host.reload_changed() == ["alpha"]
    assert host.engine.run_cli("alpha:who", []) == (0, "alpha v2 after 1 calls")
    assert host.engine.run_cli("beta:who", []) == (0, "beta v1 after 2 calls")  # same process, state kept
    assert host.records["beta"].handle.pid == pids["beta"]
    assert host.records["alpha"].handle.pid != pids["alpha"]


def test_fixing_a_failed_plugin_brings_it_back_in_a_running_world(
        plugin_pack: PackFactory, make_host: HostFactory, runtime: Runtime) -> None:
    """The host looks for changed files every half second of world time (30 ticks)."""
    namer = plugin_pack("namer", """
        def storm_systems():
            return [{"name": "namer", "order": 250}]

        def storm_system_update(world):
            raise RuntimeError("not yet")
    """, permissions=WRITE)
    host = make_host(namer, runtime=runtime, watch_seconds=0.5)
    world = runtime.new_world()
    marker = world.create_entity("marker")
    world.tick()
    assert host.records["namer"].status == "failed" and "RuntimeError: not yet" in str(host.failures[0])
    first_pid = host.records["namer"].handle.pid
    namer.write_code("""
        def storm_systems():
            return [{"name": "namer", "order": 250}]

        def storm_system_update(tick, world):
            world.apply({"command": "Rename", "entity": 1, "name": f"fixed at {tick}"})
    """)
    for _ in range(31):  # the world goes on while the plugin is down; at 0.5 s the host notices the change
        world.tick()
    assert host.records["namer"].status == "running" and host.records["namer"].handle.pid != first_pid
    assert world.name_of(marker) == "fixed at 31"
    assert host.reload_changed() == []
