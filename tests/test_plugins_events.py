"""The plugin event bus: typed events (data checked against the declared fields), one bounded queue
per subscriber (a slow one loses the oldest events, counted and reported, instead of growing
memory), and the engine's world events reaching sandboxed plugins."""
from __future__ import annotations

import logging
from typing import Callable

import pytest

from engine.core.fields import Float, Str
from engine.host.runtime import Runtime
from plugins.events import DROPPED, EventError, EventType, PluginEventBus
from plugins.host import PluginHost
from tests.plugin_helpers import PluginPack

PackFactory = Callable[..., PluginPack]
HostFactory = Callable[..., PluginHost]
RAIN = EventType("weather:rain", {"strength": Float(0.0, 1.0), "where": Str(50)}, "weather")


def test_events_are_checked_against_their_declared_fields() -> None:
    bus = PluginEventBus()
    bus.declare(RAIN)
    bus.subscribe("farm", ["weather:rain"])
    assert bus.publish("weather:rain", {"strength": 0.5, "where": "valley"}, "weather") == 1
    with pytest.raises(EventError, match=r"weather:rain.strength: expected a number in \[0.0, 1.0\], got 7"):
        bus.publish("weather:rain", {"strength": 7, "where": "valley"}, "weather")
    with pytest.raises(EventError, match="field 'where' is missing"):
        bus.publish("weather:rain", {"strength": 0.5}, "weather")
    with pytest.raises(EventError, match="no field 'wind'"):
        bus.publish("weather:rain", {"strength": 0.5, "where": "x", "wind": 3}, "weather")
    with pytest.raises(EventError, match="belongs to 'weather'; only it may publish it"):
        bus.publish("weather:rain", {"strength": 0.5, "where": "x"}, "farm")
    with pytest.raises(EventError, match="an event type declared with storm_event_types"):
        bus.publish("weather:snow", {}, "weather")
    with pytest.raises(EventError, match="already declared by 'weather'"):
        bus.declare(EventType("weather:rain", {}, "farm"))
    assert [e.data for e in bus.drain("farm")] == [{"strength": 0.5, "where": "valley"}]


def test_a_slow_subscriber_loses_the_oldest_events_counted_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    bus = PluginEventBus(capacity=4)
    bus.declare(RAIN)
    bus.subscribe("slow", ["weather:rain"])
    bus.subscribe("quick", ["weather:rain"], capacity=100)
    for i in range(10):
        bus.publish("weather:rain", {"strength": i / 10, "where": f"field {i}"}, "weather")
        assert bus.stats()["slow"]["queued"] <= 4  # memory stays bounded while nobody drains
    with caplog.at_level(logging.WARNING, "storm.plugins"):
        events = bus.drain("slow")
    assert [(e.type, e.data) for e in events] == [(DROPPED, {"count": 6})] + [
        ("weather:rain", {"strength": i / 10, "where": f"field {i}"}) for i in range(6, 10)]
    assert "event subscriber 'slow' is too slow: 6 events were dropped" in caplog.text
    assert len(bus.drain("quick")) == 10
    assert bus.stats() == {"slow": {"delivered": 5, "dropped": 6, "queued": 0, "capacity": 4},
                           "quick": {"delivered": 10, "dropped": 0, "queued": 0, "capacity": 100}}
    assert bus.drain("slow") == []  # the drop was reported once


PUBLISHER = """
def storm_event_types():
    return [{"name": "ping", "fields": {"n": {"type": "int"}, "extra": {"type": "json"}}}]

def storm_update(tick, plugin):
    for n in range(50):
        plugin.publish("pinger:ping", {"n": tick * 100 + n, "extra": {"tick": tick}})
"""
LISTENER = """
got = []

def storm_subscriptions():
    return ["pinger:ping"]

def storm_event(type, data, source):
    got.append(f"{type} {data.get('count', data.get('n'))} from {source}")

def storm_cli_commands():
    return [{"name": "got"}]

def storm_cli_run(command):
    return "; ".join(got)
"""


def test_sandboxed_plugins_talk_over_the_bus_and_a_slow_one_is_told_what_it_lost(
        plugin_pack: PackFactory, make_host: HostFactory, runtime: Runtime) -> None:
    host = make_host(plugin_pack("pinger", PUBLISHER), plugin_pack("listener", LISTENER), runtime=runtime,
                     event_capacity=8)
    world = runtime.new_world()
    world.tick()
    world.tick()
    code, text = host.engine.run_cli("listener:got", [])
    got = text.split("; ")
    # each tick the pinger publishes 50, the listener's queue keeps the last 8
    assert got[:9] == ["storm:events_dropped 42 from storm"] + [f"pinger:ping {n} from pinger" for n in range(42, 50)]
    assert got[9:] == ["storm:events_dropped 42 from storm"] + [f"pinger:ping {n} from pinger" for n in range(142, 150)]
    assert host.bus.stats()["listener"]["dropped"] == 84
    assert host.failures == []


WATCHER = """
def storm_subscriptions():
    return ["storm:entity_created", "storm:component_added"]

def storm_event(type, data, world):
    if type == "storm:entity_created":
        world.apply({"command": "Rename", "entity": data["entity"], "name": f"seen {data['entity']}"})
"""


def test_world_events_reach_a_sandboxed_plugin(plugin_pack: PackFactory, make_host: HostFactory,
                                               runtime: Runtime) -> None:
    watcher = plugin_pack("watcher", WATCHER, permissions={"world_read": "watches new entities",
                                                           "world_write": "labels them"})
    host = make_host(watcher, runtime=runtime)
    world = runtime.new_world()
    first, second = world.create_entity("a"), world.create_entity("b")
    world.tick()
    assert (world.name_of(first), world.name_of(second)) == (f"seen {first}", f"seen {second}")
    assert host.bus.stats()["watcher"]["delivered"] == 2


def test_world_events_need_the_world_read_permission(plugin_pack: PackFactory, make_host: HostFactory) -> None:
    host = make_host(plugin_pack("peeker", WATCHER))
    failure = host.failures[0]
    assert (failure.kind, failure.hook) == ("api", "storm_subscriptions")
    assert "storm:entity_created needs the world_read permission" in str(failure)
