"""Verbs declared by content packs as data: typed arguments and the world commands they run,
with ``"$arg"`` (and ``"$self"``, the actor) standing for values. No code runs from a pack::

    {"storm_npc_actions": 1, "actions": [
      {"name": "ring_bell", "doc": "ring the bell", "args": {"bell": {"type": "entity", "reach": true}},
       "commands": [{"command": "SetFields", "entity": "$self", "type": "NpcBrain", "values": {"emote": "cheer"}}]}]}
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ai.actions.registry import ActionRegistry, ActionSpec, ArgSpec
from ai.data_checks import Reader
from engine.core.commands import Command, CommandError, command_from_json
from engine.core.errors import DataError
from engine.core.fields import Bool, EntityRef, Enum, FieldType, Float, Str

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.packs.content import ContentRegistry

ARG_TYPES = ("entity", "enum", "number", "text", "bool")


def _arg_type(reader: Reader) -> FieldType:
    kind = reader.text("type")
    if kind == "entity":
        return EntityRef(tuple(reader.texts("requires", 8, 200)))
    if kind == "enum":
        choices = reader.texts("choices", 50, 40)
        if not choices:
            raise DataError(reader.source, reader.where("choices"), "at least one choice")
        return Enum(tuple(choices))
    if kind == "number":
        return Float(reader.number("min", 0, -1e6, 1e6), reader.number("max", 100, -1e6, 1e6))
    if kind == "text":
        return Str(int(reader.number("max_length", 60, 1, 400)))
    if kind == "bool":
        return Bool()
    raise DataError(reader.source, reader.where("type"), f"one of {', '.join(ARG_TYPES)}", kind)


def _substitute(value: Any, args: dict[str, Any], actor: int) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        name = value[1:]
        if name == "self":
            return actor
        if name in args:
            return args[name]
        return value
    if isinstance(value, list):
        return [_substitute(v, args, actor) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, args, actor) for k, v in value.items()}
    return value


def load_pack_actions(content: "ContentRegistry", asset_id: str) -> list[ActionSpec]:
    """The verbs of one pack file; DataError naming the file and place for anything wrong."""
    source = content.display(asset_id)
    top = Reader(content.read_json(asset_id), source)
    top.known("storm_npc_actions", "actions")
    if top.data.get("storm_npc_actions") != 1:
        raise DataError(source, "storm_npc_actions", "1 (the format version)", top.data.get("storm_npc_actions"))
    specs = []
    for entry in top.objects("actions", 200):
        entry.known("name", "doc", "args", "commands")
        name = entry.text("name", max_length=40, empty=False)
        if not name.isidentifier():
            raise DataError(source, entry.where("name"), "an identifier (letters, digits, _)", name)
        args = []
        for arg_name, arg_data in entry.mapping("args", 8).items():
            reader = Reader(arg_data, source, f"{entry.where('args')}.{arg_name}")
            reader.known("type", "requires", "choices", "min", "max", "max_length", "reach", "doc")
            args.append(ArgSpec(arg_name, _arg_type(reader), reader.text("doc", ""), reach=reader.flag("reach", False)))
        templates = entry.data.get("commands", [])
        if not isinstance(templates, list) or not templates or len(templates) > 16:
            raise DataError(source, entry.where("commands"), "a list of 1 to 16 world commands", templates)
        sample = {a.name: 1 for a in args}
        for index, template in enumerate(templates):
            try:  # the shape is checked now, with placeholder values standing in for the arguments
                command_from_json(_placeholder(template, sample), f"{source}: {entry.where('commands')}[{index}]")
            except CommandError as exc:
                raise DataError(source, f"{entry.where('commands')}[{index}]", f"a world command ({exc.reason})") from None
        specs.append(ActionSpec(name, entry.text("doc", "", 200), tuple(args), None,
                                _applier(copy.deepcopy(templates), source), source))
    return specs


def _placeholder(template: Any, sample: dict[str, Any]) -> Any:
    if isinstance(template, str) and template.startswith("$"):
        return 1
    if isinstance(template, list):
        return [_placeholder(v, sample) for v in template]
    if isinstance(template, dict):
        return {k: _placeholder(v, sample) for k, v in template.items()}
    return template


def _applier(templates: list[Any], source: str) -> Any:
    def apply(world: "World", actor: int, args: dict[str, Any]) -> list[Command]:
        return [command_from_json(_substitute(t, args, actor), source) for t in templates]

    return apply


def register_pack_actions(registry: ActionRegistry, content: "ContentRegistry", asset_ids: list[str]) -> list[str]:
    """Add the verbs of each file; returns their names. A verb of a built-in's name replaces it."""
    names = []
    for asset_id in asset_ids:
        for spec in load_pack_actions(content, asset_id):
            registry.register(spec)
            names.append(spec.name)
    return names
