"""Commands: every edit of a World from outside the simulation, as plain data.

A command is addressed by ids and names — ``(entity id, component type name, field name)`` —
never by Python objects, so it stays valid after undo, survives JSON and can come from an
editor, a plugin, a network peer, an NPC or a console alike. ``world.apply(command)`` checks it
completely before changing anything, applies it and returns its inverse; a refused command
raises ``CommandError`` and leaves the World exactly as it was.

The command types live in ``edit_commands.py`` and ``prefab_commands.py``; this module holds
the base class, ``Transaction``, and the JSON codec (``command_to_json``/``command_from_json``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

from engine.core.component import Component
from engine.core.errors import StormError
from engine.core.fields import MAX_ENTITY_ID

if TYPE_CHECKING:
    from engine.core.world import World

COMMAND_TYPES: dict[str, type["Command"]] = {}
MAX_TRANSACTION_STEPS = 100_000


class CommandError(StormError):
    """A command the World refused: names the command and the reason."""

    def __init__(self, command: "Command | str", reason: str) -> None:
        self.command = command
        self.reason = reason
        super().__init__(f"{command}: {reason}")


class Command:
    """Base of every command. Subclasses are dataclasses of JSON-ready fields and implement
    ``apply(world) -> inverse``; they check everything before the first change."""

    kind: ClassVar[str] = "Command"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.kind = cls.__name__
        COMMAND_TYPES[cls.kind] = cls

    def apply(self, world: "World") -> "Command":
        raise NotImplementedError

    @property
    def changes_file(self) -> bool:
        """Whether applying it changes what the world file holds (a History's dirty flag follows
        only those; the editor's hide and lock do not)."""
        return True

    def merges_with(self, other: "Command") -> bool:
        """Whether ``other`` (done right after this one) edits the same thing, so a History may fold
        the two into one step (a drag)."""
        return False

    def __str__(self) -> str:
        return f"{self.kind}({describe_target(self)})"


def describe_target(command: Command) -> str:
    parts = []
    for name in ("entity", "type", "field", "name", "asset"):
        value = getattr(command, name, None)
        if value not in (None, "", 0):
            parts.append(f"{name} {value!r}" if isinstance(value, str) else f"{name} {value}")
    return ", ".join(parts)


@dataclass
class Transaction(Command):
    """Several commands applied as one: all of them, or (when one is refused) none."""

    name: str = ""
    commands: list[Command] = field(default_factory=list)

    def apply(self, world: "World") -> Command:
        inverses: list[Command] = []
        for index, command in enumerate(self.commands):
            try:
                inverses.append(command.apply(world))
            except CommandError as exc:
                for inverse in reversed(inverses):
                    inverse.apply(world)
                raise CommandError(self, f"step {index + 1} of {len(self.commands)} was refused ({exc}); "
                                         "nothing was changed") from None
        return Transaction(self.name, list(reversed(inverses)))

    @property
    def changes_file(self) -> bool:
        return any(command.changes_file for command in self.commands)

    def __str__(self) -> str:
        return f"Transaction({self.name!r}, {len(self.commands)} steps)"


# -- lookups shared by the command types ----------------------------------------------------------
def need_entity(world: "World", eid: Any, command: Command, what: str = "entity") -> int:
    if isinstance(eid, bool) or not isinstance(eid, int) or not world.exists(eid):
        raise CommandError(command, f"no {what} {eid!r} in world {world.name!r}")
    return eid


def need_type(world: "World", type_name: Any, command: Command) -> type[Component]:
    if not isinstance(type_name, str):
        raise CommandError(command, f"a component type name, got {type_name!r}")
    cls = world.registry.get(type_name)
    if cls is not None:
        return cls
    try:
        return world.registry.resolve(type_name)
    except LookupError as exc:
        raise CommandError(command, f"unknown component type {type_name!r}: expected {exc}") from None


def need_component(world: "World", eid: int, type_name: Any, command: Command) -> Component:
    cls = need_type(world, type_name, command)
    component = world.get(eid, cls)
    if component is None:
        raise CommandError(command, f"entity {eid} ({world.name_of(eid)!r}) has no {type_name} component")
    return component


# -- JSON -----------------------------------------------------------------------------------------
def command_to_json(command: Command) -> dict[str, Any]:
    """The command as JSON-ready data: ``{"command": "SetFields", ...its fields}``."""
    out: dict[str, Any] = {"command": command.kind}
    for item in fields(command):  # type: ignore[arg-type]
        value = getattr(command, item.name)
        if isinstance(value, list) and value and isinstance(value[0], Command):
            value = [command_to_json(c) for c in value]
        out[item.name] = value
    return out


def command_from_json(data: Any, source: str = "command") -> Command:
    """A command from JSON data; raises CommandError naming the place and what was expected.

    Only shapes are checked here (types, ids, names); the World checks meaning when the command
    is applied, since that depends on what is in the world at that moment.
    """
    return _from_json(data, source, 0)


def _from_json(data: Any, path: str, depth: int) -> Command:
    if depth > 32:
        raise CommandError(path, "transactions nested at most 32 deep")
    if not isinstance(data, dict) or not isinstance(data.get("command"), str):
        raise CommandError(path, "an object with a \"command\" naming a command type")
    cls = COMMAND_TYPES.get(data["command"])
    if cls is None or cls is Command:
        raise CommandError(path, f"a command type ({', '.join(sorted(COMMAND_TYPES))}), got {data['command']!r:.80}")
    declared = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "command":
            continue
        if key not in declared:
            raise CommandError(f"{path}.{key}", f"a field of {cls.kind} ({', '.join(declared)})")
        if cls is Transaction and key == "commands":
            if not isinstance(value, list) or len(value) > MAX_TRANSACTION_STEPS:
                raise CommandError(f"{path}.commands", f"a list of at most {MAX_TRANSACTION_STEPS} commands")
            value = [_from_json(item, f"{path}.commands[{i}]", depth + 1) for i, item in enumerate(value)]
        else:
            _check_shape(cls, key, value, declared[key].type, f"{path}.{key}")
        kwargs[key] = value
    return cls(**kwargs)


_SHAPES: dict[str, tuple[type, ...]] = {"int": (int,), "str": (str,), "bool": (bool,), "dict[str, Any]": (dict,),
                                        "list[Any]": (list,), "list[str]": (list,), "Any": (object,)}


def _check_shape(cls: type, key: str, value: Any, annotation: Any, path: str) -> None:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    optional = text.endswith(" | None")
    base = text[: -len(" | None")] if optional else text
    if value is None and optional:
        return
    expected = _SHAPES.get(base)
    if expected is None:
        return
    if isinstance(value, bool) and bool not in expected and expected != (object,):
        raise CommandError(path, f"{base}, got {value!r}")
    if not isinstance(value, expected):
        raise CommandError(path, f"{base}, got {type(value).__name__}")
    if base == "int" and not -1 <= value <= MAX_ENTITY_ID:
        raise CommandError(path, f"a whole number from 0 to {MAX_ENTITY_ID}")
    if base == "str" and len(value) > 10_000:
        raise CommandError(path, "a string of at most 10000 characters")
