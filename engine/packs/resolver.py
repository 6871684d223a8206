"""The load order of the enabled packs, and every reason they cannot load, in plain sentences.

The order (docs/modding.md, "Dependencies and load order"): a pack loads after each enabled pack
it depends on, optionally depends on, or names in ``load_after``. Its *depth* is 0 when it waits
for none of them, else one more than the deepest of them; packs load by depth, then by id. So a
dependency always comes first, and packs that do not wait for each other keep the same order
whatever else is installed.

Every problem is found in one pass and reported together (``ResolveError.problems``), each a
sentence naming the packs and versions involved::

    forest 1.2.0 needs base >=0.3, but base 0.2.0 is installed
    dependency cycle: a -> b -> c -> a (each needs the next one loaded first)

The work is linear in packs plus dependencies: dictionaries, one topological sort (Kahn) and one
strongly-connected-components pass (Tarjan, iterative) for the cycles.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import semver

from engine.core.api_version import API_VERSION
from engine.core.errors import StormError
from engine.packs.content import VIRTUAL_PACKS
from engine.packs.discovery import AvailablePack
from engine.packs.versions import parse_short_version


class ResolveError(StormError):
    """The enabled packs cannot load; ``problems`` holds one sentence per problem found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("the enabled packs cannot load:\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass
class Resolution:
    """The outcome of resolving: the enabled packs in load order (those a cycle keeps out are in
    ``unordered``), and the problems found; ``ok`` when there are none."""

    order: list[AvailablePack]
    problems: list[str]
    available: dict[str, AvailablePack]
    enabled: frozenset[str]
    unordered: list[str] = field(default_factory=list)
    depth: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def check(self) -> list[AvailablePack]:
        """The load order; raises ResolveError when there is any problem."""
        if self.problems:
            raise ResolveError(self.problems)
        return self.order


def resolve(available: Sequence[AvailablePack], enabled: Iterable[str],
            engine_version: str = API_VERSION) -> list[AvailablePack]:
    """The enabled packs in load order; raises ResolveError listing every problem."""
    return plan_load_order(available, enabled, engine_version).check()


def plan_load_order(available: Sequence[AvailablePack], enabled: Iterable[str],
                    engine_version: str = API_VERSION) -> Resolution:
    """Resolve without raising: the order of what can be ordered, and every problem found.
    ``available`` is in scan order; of two packs with one id, the first is the one checked."""
    problems: list[str] = []
    by_id: dict[str, AvailablePack] = {}
    same_id: dict[str, list[AvailablePack]] = {}
    for pack in available:
        if pack.id in by_id:
            same_id.setdefault(pack.id, [by_id[pack.id]]).append(pack)
        else:
            by_id[pack.id] = pack
    for pack_id in sorted(same_id):
        places = [f"{p.location} ({p.version})" for p in same_id[pack_id]]
        listed = ", ".join(places[:-1]) + " and " + places[-1]
        problems.append(f"{len(places)} packs have the id {pack_id}: {listed}; keep one of them")

    for pack in available:
        if pack.id in VIRTUAL_PACKS:
            problems.append(f"{pack.label} ({pack.location}) has the id {pack.id}, which Storm keeps for its "
                            "built-in shapes; choose another id")
    wanted = frozenset(enabled)
    for pack_id in sorted(wanted - by_id.keys()):
        problems.append(f"the profile enables {pack_id}, which is not installed")
    active = sorted(wanted & by_id.keys())
    engine = parse_short_version(engine_version)
    for pack_id in active:
        problems += _check_pack(by_id[pack_id], by_id, wanted, engine, engine_version)

    after = {pack_id: _waits_for(by_id[pack_id], wanted, by_id) for pack_id in active}
    depth = _depths(after)
    order = [by_id[pack_id] for pack_id in sorted(depth, key=lambda p: (depth[p], p))]
    unordered = sorted(set(active) - depth.keys())
    if unordered:
        problems += [_spell_cycle(cycle) for cycle in _cycles(after, unordered)]
    return Resolution(order, problems, by_id, wanted, unordered, depth)


def _check_pack(pack: AvailablePack, by_id: dict[str, AvailablePack], enabled: frozenset[str],
                engine: semver.Version, engine_text: str) -> list[str]:
    out: list[str] = []
    manifest = pack.manifest
    if not manifest.engine.allows(engine):
        out.append(f"{pack.label} needs engine API {manifest.engine}, but this engine's API is {engine_text}")
    for dep in manifest.dependencies:
        other = by_id.get(dep.id)
        if dep.optional:
            if other is not None and dep.id in enabled and not dep.range.allows(other.version):
                out.append(f"{pack.label} can use {dep.id} {dep.range}, but {other.label} is installed")
            continue
        if other is None:
            out.append(f"{pack.label} needs {dep.id} {dep.range}, which is not installed")
        elif not dep.range.allows(other.version):
            out.append(f"{pack.label} needs {dep.id} {dep.range}, but {other.label} is installed")
        elif dep.id not in enabled:
            out.append(f"{pack.label} needs {dep.id} {dep.range}, which is disabled")
    for other_id, reason in sorted(manifest.incompatible.items()):
        other = by_id.get(other_id)
        if other is not None and other_id in enabled:
            out.append(f"{pack.label} cannot be used together with {other.label}: {reason}")
    return out


def _waits_for(pack: AvailablePack, enabled: frozenset[str], by_id: dict[str, AvailablePack]) -> list[str]:
    """The enabled packs this one loads after (dependencies, optional ones present, load_after)."""
    names = [dep.id for dep in pack.manifest.dependencies] + list(pack.manifest.load_after)
    seen: set[str] = set()
    out = []
    for name in names:
        if name in enabled and name in by_id and name != pack.id and name not in seen:
            seen.add(name)
            out.append(name)
    return sorted(out)


def _depths(after: dict[str, list[str]]) -> dict[str, int]:
    """Kahn's topological sort; a pack's depth is one more than the deepest pack it waits for.
    Packs in (or waiting on) a cycle never reach zero waits and are left out."""
    waiting = {pack_id: len(targets) for pack_id, targets in after.items()}
    dependents: dict[str, list[str]] = {pack_id: [] for pack_id in after}
    for pack_id, targets in after.items():
        for target in targets:
            dependents[target].append(pack_id)
    depth = {pack_id: 0 for pack_id, count in waiting.items() if count == 0}
    ready = deque(depth)
    while ready:
        pack_id = ready.popleft()
        for dependent in dependents[pack_id]:
            depth[dependent] = max(depth.get(dependent, 0), depth[pack_id] + 1)
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    return depth


def _cycles(after: dict[str, list[str]], nodes: list[str]) -> list[list[str]]:
    """One cycle per strongly connected component of ``nodes`` (iterative Tarjan), each from its
    smallest id along the shortest way back to it; sorted by that id."""
    inside = set(nodes)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = [t for t in after[node] if t in inside]
            if child < len(targets):
                work.append((node, child + 1))
                target = targets[child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted((_shortest_loop(after, set(c)) for c in components), key=lambda loop: loop[0])


def _shortest_loop(after: dict[str, list[str]], component: set[str]) -> list[str]:
    start = min(component)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in after[node]:
            if target not in component:
                continue
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = node
                queue.append(target)
    return [start, start]  # unreachable: a component of two or more always loops back


def _spell_cycle(loop: list[str]) -> str:
    return f"dependency cycle: {' -> '.join(loop)} (each needs the next one loaded first)"
