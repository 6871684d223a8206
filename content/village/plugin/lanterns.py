"""The village's lanterns flicker: an engine system and an editor panel from one sandboxed plugin."""
import math

strength = 0.5
steady = {}  # entity id -> the intensity the light had before it flickered


def storm_init(plugin):
    global strength
    strength = plugin.settings["flicker"]
    plugin.log(f"lanterns flicker at {strength}")


def storm_systems():
    return [{"name": "flicker", "order": 250}]  # after scripts (200), before physics (300)


def storm_system_update(tick, world):
    for entity in world.query("Light"):
        light = world.get(entity, "Light")
        if light["kind"] != "point":
            continue
        base = steady.setdefault(entity, light["intensity"])
        intensity = round(base * (1.0 + strength * math.sin(0.7 * tick + entity)), 4)
        world.apply({"command": "SetFields", "entity": entity, "type": "Light", "values": {"intensity": intensity}})


def storm_cli_commands():
    return [{"name": "status", "help": "how much the lanterns flicker"}]  # ./storm plugin run village:status


def storm_cli_run(command, args):
    return f"lanterns flicker at {strength} ({len(steady)} seen so far)"


def storm_editor_panels():
    return [{"id": "lanterns", "title": "Lanterns"}]


def storm_editor_panel(panel, world):
    return [{"kind": "text", "text": f"{len(steady)} lanterns flicker"},
            {"kind": "slider", "label": "Strength", "action": "strength", "value": strength, "min": 0.0, "max": 1.0}]


def storm_editor_menu_items():
    return [{"menu": "Tools", "label": "Calm all lanterns", "action": "calm"}]


def storm_editor_inspectors():
    return [{"component": "Light"}]


def storm_editor_inspector(entity, values):
    if entity not in steady:
        return []
    return [{"kind": "text", "text": f"flickers around {steady[entity]}"}]


def storm_editor_action(action, value):
    global strength
    if action == "strength":
        strength = min(1.0, max(0.0, float(value)))
    elif action == "calm":
        strength = 0.0
