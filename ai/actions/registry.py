"""The action registry: each NPC verb with typed arguments (the same field types components
declare), a check against the World, and an apply that returns world commands.

Nothing an NPC does bypasses this: ``ActionRegistry.perform`` validates a Decision completely
(allowed for this persona, arguments of the declared types, targets that exist, have what the
argument requires and are within reach, the verb's own check) and only then applies its commands
as one Transaction through ``world.apply``.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from engine.core.commands import Command, CommandError, Transaction
from engine.core.errors import FieldError, StormError
from engine.core.fields import EntityRef, FieldType

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.ai.actions")
RESERVED = ("say", "action")
SERVICE = "npc_actions"


class ActionRefused(StormError):
    """A decision that may not run: names the verb and the reason."""

    def __init__(self, action: str, reason: str) -> None:
        self.action, self.reason = action, reason
        super().__init__(f"action {action!r}: {reason}")


@dataclass(frozen=True)
class ArgSpec:
    """One argument of a verb: its name, field type and meaning. ``reach``: an entity argument
    must be within the actor's reach (NpcBrain.reach) rather than its hearing range."""

    name: str
    type: FieldType
    doc: str = ""
    reach: bool = False
    not_self: bool = True
    usable: "Callable[[World, int, int], bool] | None" = None  # (world, actor, target): worth offering

    def offers(self, world: "World", actor: int, target: int) -> bool:
        """Whether ``target`` is worth putting in the grammar for this argument (the full check
        still runs on the answer)."""
        if self.not_self and target == actor:
            return False
        if isinstance(self.type, EntityRef) and self.type.requires:
            has = {type(c).type_name for c in world.components(target)}
            if any(t not in has for t in self.type.requires):
                return False
        if self.reach and distance_between(world, actor, target) > reach_of(world, actor, True):
            return False
        return self.usable is None or self.usable(world, actor, target)


@dataclass
class Decision:
    """What an NPC decided: a line to say (may be empty) and one verb with its arguments."""

    action: str
    args: dict[str, Any] = field(default_factory=dict)
    say: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"say": self.say, "action": self.action, **self.args}


Check = Callable[["World", int, dict[str, Any]], None]
Apply = Callable[["World", int, dict[str, Any]], list[Command]]


@dataclass
class ActionSpec:
    """One verb. ``check`` raises ActionRefused; ``apply`` returns the commands that carry it out
    (applied together, or not at all). ``source`` says who declared it (storm, or a pack file)."""

    name: str
    doc: str
    args: tuple[ArgSpec, ...] = ()
    check: Check | None = None
    apply: Apply | None = None
    source: str = "storm"


class ActionRegistry:
    """The verbs of one World (``ActionRegistry.of(world)``), by name."""

    def __init__(self) -> None:
        self._specs: dict[str, ActionSpec] = {}
        self.refusals: list[str] = []  # the latest refusals, for the editor and tests

    @classmethod
    def of(cls, world: "World") -> "ActionRegistry":
        """The world's registry, made with the built-in verbs on first use."""
        registry = world.services.get(SERVICE)
        if registry is None:
            from ai.actions.builtin import register_builtin_actions

            registry = world.services[SERVICE] = cls()
            register_builtin_actions(registry)
        return registry

    def register(self, spec: ActionSpec) -> ActionSpec:
        if not spec.name.isidentifier() or spec.name in RESERVED and spec.name != "say":
            raise ValueError(f"action name {spec.name!r}: a lowercase identifier other than {RESERVED}")
        for arg in spec.args:
            if arg.name in RESERVED or not arg.name.isidentifier():
                raise ValueError(f"action {spec.name!r}: argument name {arg.name!r} is reserved or not an identifier")
        self._specs[spec.name] = spec
        return spec

    def get(self, name: str) -> ActionSpec | None:
        return self._specs.get(name)

    def names(self) -> list[str]:
        return list(self._specs)

    def specs(self, allowed: "list[str] | tuple[str, ...] | None" = None) -> list[ActionSpec]:
        """The verbs in ``allowed`` (all when None) that exist, in the order of ``allowed``."""
        if allowed is None:
            return list(self._specs.values())
        return [self._specs[name] for name in dict.fromkeys(allowed) if name in self._specs]

    # -- validation ---------------------------------------------------------------------------
    def validate(self, world: "World", actor: int, decision: Decision, allowed: "list[str] | tuple[str, ...]") -> Decision:
        """The decision with its arguments converted, or ActionRefused saying why it may not run."""
        name = decision.action
        if name not in allowed:
            raise ActionRefused(name, f"not among this persona's actions ({', '.join(allowed)})")
        spec = self._specs.get(name)
        if spec is None:
            raise ActionRefused(name, "no such action in this world")
        if not world.exists(actor):
            raise ActionRefused(name, f"the actor {actor} is gone")
        declared = {a.name for a in spec.args}
        extra = sorted(set(decision.args) - declared)
        if extra:
            raise ActionRefused(name, f"unknown argument {extra[0]!r} (expected {', '.join(declared) or 'none'})")
        args: dict[str, Any] = {}
        for arg in spec.args:
            if arg.name not in decision.args:
                raise ActionRefused(name, f"missing argument {arg.name!r} ({arg.type.describe()})")
            try:
                value = arg.type.validate(decision.args[arg.name])
            except FieldError as exc:
                raise ActionRefused(name, f"argument {arg.name!r}: {exc}") from None
            if isinstance(arg.type, EntityRef):
                self._check_target(world, actor, spec, arg, value)
            args[arg.name] = value
        if spec.check is not None:
            spec.check(world, actor, args)
        return Decision(name, args, decision.say)

    def _check_target(self, world: "World", actor: int, spec: ActionSpec, arg: ArgSpec, target: int) -> None:
        if not target or not world.exists(target):
            raise ActionRefused(spec.name, f"argument {arg.name!r}: no entity {target}")
        if arg.not_self and target == actor:
            raise ActionRefused(spec.name, f"argument {arg.name!r}: the actor itself")
        assert isinstance(arg.type, EntityRef)
        if arg.type.requires:
            has = {type(c).type_name for c in world.components(target)}
            missing = [t for t in arg.type.requires if t not in has]
            if missing:
                raise ActionRefused(spec.name, f"argument {arg.name!r}: entity {target} has no {missing[0]}")
        limit = reach_of(world, actor, arg.reach)
        distance = distance_between(world, actor, target)
        if distance > limit:
            raise ActionRefused(spec.name, f"argument {arg.name!r}: entity {target} is {distance:.1f} m away "
                                           f"(at most {limit:g} m)")

    # -- running --------------------------------------------------------------------------------
    def perform(self, world: "World", actor: int, decision: Decision, allowed: "list[str] | tuple[str, ...]") -> Decision:
        """Validate and apply a decision (its commands as one Transaction). Raises ActionRefused."""
        checked = self.validate(world, actor, decision, allowed)
        spec = self._specs[checked.action]
        commands = spec.apply(world, actor, checked.args) if spec.apply is not None else []
        if commands:
            try:
                world.apply(Transaction(f"npc {actor} {checked.action}", commands))
            except CommandError as exc:
                raise ActionRefused(checked.action, f"the world refused it ({exc.reason})") from None
        return checked

    def refuse(self, actor: int, text: str, reason: str) -> None:
        """Log a refused decision (kept for the editor: the latest 50)."""
        line = f"npc {actor}: refused {text[:200]!r}: {reason}"
        log.warning("%s", line)
        self.refusals = (self.refusals + [line])[-50:]


def distance_between(world: "World", a: int, b: int) -> float:
    pa, pb = world.node(a).getPos(world.root), world.node(b).getPos(world.root)
    return math.dist((pa.x, pa.y, pa.z), (pb.x, pb.y, pb.z))


def reach_of(world: "World", actor: int, reach: bool) -> float:
    """How far the actor acts (``reach``) or perceives; defaults when it has no NpcBrain."""
    from ai.components import NpcBrain

    brain = world.get(actor, NpcBrain)
    if brain is None:
        return 2.5 if reach else 10.0
    return brain.reach if reach else brain.hearing
