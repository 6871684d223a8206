"""Prefab instances as world state: which entity plays which member of which prefab file."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PrefabInstance:
    """A placed prefab: the root entity, the entity of each member key (``outer/inner`` for nested
    members), the members' data as the prefab gives it (before this instance's overrides), and the
    member keys this instance removed."""

    asset_id: str
    root: int
    members: dict[str, int]
    template: dict[str, dict[str, Any]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)

    def clone(self) -> "PrefabInstance":
        """An independent copy (snapshots and undo keep one)."""
        return PrefabInstance(self.asset_id, self.root, dict(self.members), copy.deepcopy(self.template),
                              set(self.removed))
