"""Which world commands a peer may send: none without the ``command`` permission; with it, only
commands that leave every player's entity alone (``admin`` may send any). A refused command is
answered with a notice naming the reason; the world never sees it."""
from __future__ import annotations

from typing import Iterable

from engine.core.commands import Command, Transaction
from engine.core.edit_commands import CreateEntity
from netcode.auth import Grant


def _targets(command: Command) -> Iterable[int]:
    for name in ("entity", "parent"):
        value = getattr(command, name, None)
        if isinstance(value, int) and value:
            yield value
    if isinstance(command, CreateEntity):
        for record in command.entities if isinstance(command.entities, list) else ():
            if isinstance(record, dict) and isinstance(record.get("parent"), int):
                yield record["parent"]


def refusal(command: Command, grant: Grant, players: set[int], descendants_of: "callable") -> str:
    """Why ``grant`` may not send ``command`` ('' when it may). ``players`` are the entities of
    every player; ``descendants_of(eid)`` the entities under one (a command on a parent moves them)."""
    if "admin" in grant.permissions:
        return ""
    if "command" not in grant.permissions:
        return "world commands need the 'command' permission"
    steps = command.commands if isinstance(command, Transaction) else [command]
    for step in steps:
        if isinstance(step, Transaction):
            reason = refusal(step, grant, players, descendants_of)
            if reason:
                return reason
            continue
        for target in _targets(step):
            touched = {target, *descendants_of(target)}
            if touched & players:
                return f"{step}: entity {target} is or holds a player's entity; only an admin may change it"
    return ""
