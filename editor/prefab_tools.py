"""Prefabs in the editor: place a model or prefab on the surface under the mouse, make a prefab
from the selection, and the data of a world's entities as a prefab file.

Placing casts the view's ray into what the renderer draws (``picking.pick``, the same test a
click uses); where it meets nothing it meets the ground plane (z = 0). A model is lifted by the
bottom of its bounds so it stands on the surface; a prefab's root goes on the surface (prefab
roots stand at their base). Either is one world command, one undo step.

Making a prefab writes ``<pack>/prefabs/<name>.prefab.json`` atomically into a folder pack the
user chooses, then replaces the selection by an instance of it in one undoable step: the
instance keeps the ids of the entities it replaces, so references from the rest of the world
still point at the same things. Nested prefab instances in the selection are written as plain
entities (their link to their own prefab is not kept). Entity references inside the selection
become member keys; references to entities outside it are cleared (a prefab is reused in other
worlds), with a warning naming them.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from panda3d.core import Point3

from editor.asset_list import kind_of
from editor.picking import Ray, pick
from editor.templates import unique_name
from engine.core.commands import Command, Transaction
from engine.core.edit_commands import CreateEntity, DestroyEntity
from engine.core.entity_specs import transform_data
from engine.core.fields import EntityRef, f32
from engine.core.prefab_commands import InstantiatePrefab
from engine.data.migrations import CURRENT_VERSION
from engine.packs.json_text import atomic_write, dumps_canonical

if TYPE_CHECKING:
    from editor.session import Session
    from engine.core.world import World

log = logging.getLogger("storm.editor")
MAX_PREFAB_ENTITIES = 5000


class PrefabRefused(Exception):
    """Making or placing a prefab was refused; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- placing -----------------------------------------------------------------------------------------
def surface_point(session: "Session", ray: Ray) -> Point3:
    """Where ``ray`` meets the first visible surface, else the ground plane z = 0, else (a ray
    looking up at the sky) the point the camera looks at."""
    world = session.world
    hit = pick(world, ray, lambda eid: session.marks.pickable(world, eid))
    if hit is not None:
        return Point3(hit.point)
    if ray.direction.z < -1e-6:
        t = -ray.origin.z / ray.direction.z
        if 0 < t < 1e5:
            return Point3(ray.origin + ray.direction * t)
    return Point3(session.camera.target)


def model_lift(session: "Session", asset_id: str) -> float:
    """How far above a model's origin its lowest point lies (negated): the lift that stands it on a surface."""
    model = session.runtime.assets.model(asset_id, owner="the editor's placement")
    try:
        bounds = model.getTightBounds(model)
    finally:
        model.removeNode()
    return -float(bounds[0].z) if bounds is not None else 0.0


def place_command(session: "Session", asset_id: str, at: Point3) -> Command:
    """One command placing a model (an entity drawing it) or a prefab (an instance) at ``at``."""
    kind = kind_of(asset_id) or ("model" if asset_id.startswith("primitive:") else "")
    if kind not in ("model", "prefab"):
        raise PrefabRefused(f"{asset_id}: only models and prefabs can be placed")
    if kind == "prefab":
        return InstantiatePrefab(asset=asset_id, transform={"pos": [f32(at.x), f32(at.y), f32(at.z)]})
    lift = model_lift(session, asset_id)
    stem = asset_id.rsplit("/", 1)[-1].rsplit(":", 1)[-1].split(".")[0] or "Model"
    return CreateEntity.new(unique_name(session.world, stem.replace("_", " ").capitalize()), 0,
                            {"MeshRenderer": {"model": asset_id}}, {"pos": [f32(at.x), f32(at.y), f32(at.z + lift)]})


def place_at(session: "Session", asset_id: str, ray: Ray) -> int:
    """Place ``asset_id`` on the surface under ``ray`` (one undo step); selects and returns it."""
    command = place_command(session, asset_id, surface_point(session, ray))
    inverse = session.do(command, f"place {asset_id.rsplit('/', 1)[-1]}")
    eid = inverse.entity if isinstance(inverse, DestroyEntity) else 0
    if eid:
        session.selection.set([eid])
    return eid


# -- making a prefab -----------------------------------------------------------------------------------
def slug(name: str, fallback: str = "entity") -> str:
    """A prefab member key or file stem from a name: letters, digits, _ and -."""
    text = re.sub(r"[^A-Za-z0-9_\-]+", "_", name.strip()).strip("_").lower()[:48]
    return text or fallback


@dataclass
class PrefabData:
    """A prefab file's data and, per member key, the entity it was made from."""

    data: dict[str, Any]
    members: dict[str, int]
    cleared: list[str]  # references to entities outside, cleared (for a warning)


def prefab_data(world: "World", roots: list[int], name: str, known_keys: dict[int, str] | None = None,
                root_transform: bool = False) -> PrefabData:
    """The selection (``roots`` and everything under them) as prefab file data. One root becomes
    the prefab's root (its transform stays with the instance unless ``root_transform``); several
    get a new root at their centre, on the lowest of their positions. ``known_keys``: member keys
    to keep (a prefab edited on its own keeps its keys, so instances' overrides still apply)."""
    if not roots:
        raise PrefabRefused("select the entities to make the prefab from")
    parents = {world.parent_of(r) for r in roots}
    if len(parents) > 1:
        raise PrefabRefused("the selected entities have different parents: select entities under one parent "
                            "(or group them first)")
    order: list[int] = []
    for root in roots:
        order += _file_order(world, root, known_keys or {})
    if len(order) > MAX_PREFAB_ENTITIES:
        raise PrefabRefused(f"a prefab of at most {MAX_PREFAB_ENTITIES} entities (the selection has {len(order)})")
    keys: dict[int, str] = {}
    used: set[str] = set()

    def key_for(eid: int, base: str) -> str:
        known = (known_keys or {}).get(eid)
        if known and known not in used:
            used.add(known)
            keys[eid] = known
            return known
        key, n = slug(base), 2
        while key in used:
            key, n = f"{slug(base)[:44]}_{n}", n + 1
        used.add(key)
        keys[eid] = key
        return key

    entities: list[dict[str, Any]] = []
    offset = Point3(0, 0, 0)
    if len(roots) > 1:
        points = [world.node(r).getPos() for r in roots]
        offset = Point3(sum(p.x for p in points) / len(points), sum(p.y for p in points) / len(points),
                        min(p.z for p in points))
        entities.append({"key": key_for(0, name), "name": name})
    for eid in order:
        key_for(eid, world.name_of(eid) or f"entity_{eid}")
    cleared: list[str] = []
    for eid in order:
        block: dict[str, Any] = {"key": keys[eid], "name": world.name_of(eid)}
        parent = world.parent_of(eid)
        if eid in roots:
            if len(roots) == 1 and root_transform:
                local = transform_data(world.node(eid))
                if local:
                    block["transform"] = local
            elif len(roots) > 1:
                block["parent"] = keys[0]
                node = world.node(eid)
                local = transform_data(node)
                local["pos"] = [f32(v) for v in (node.getPos() - offset)]
                if local["pos"] == [0.0, 0.0, 0.0]:
                    local.pop("pos")
                if local:
                    block["transform"] = local
        else:
            block["parent"] = keys[parent]
            local = transform_data(world.node(eid))
            if local:
                block["transform"] = local
        components: dict[str, Any] = {}
        for component in world.components(eid):
            values = component.to_data()
            for field_name, declared in type(component).fields.items():
                if isinstance(declared.type, EntityRef) and field_name in values:
                    target = values[field_name]
                    if target in keys and target:
                        values[field_name] = keys[target]
                    else:
                        values.pop(field_name)
                        cleared.append(f"{world.name_of(eid) or eid}: {component.type_name}.{field_name} -> {target}")
            components[component.type_name] = values
        if components:
            block["components"] = components
        entities.append(block)
    if len(roots) == 1:
        entities[0]["name"] = name or entities[0]["name"]
    members = {key: eid for eid, key in keys.items() if eid}
    return PrefabData({"storm_prefab": CURRENT_VERSION, "entities": entities}, members, cleared)


def _file_order(world: "World", root: int, known_keys: dict[int, str]) -> list[int]:
    """``root`` and its descendants, parents first; entities with a known key keep the order the
    keys had (the prefab file's, so saving an edited prefab gives a small diff), new ones follow."""
    import heapq

    members = world.descendants(root)
    rank = {eid: i for i, eid in enumerate(known_keys)}
    late = len(rank)
    children: dict[int, list[int]] = {}
    for eid in members:
        children.setdefault(world.parent_of(eid), []).append(eid)
    order = [root]
    ready = [(rank.get(eid, late + i), eid) for i, eid in enumerate(children.get(root, []))]
    heapq.heapify(ready)
    position = {eid: i for i, eid in enumerate(members)}
    while ready:
        _rank, eid = heapq.heappop(ready)
        order.append(eid)
        for child in children.get(eid, []):
            heapq.heappush(ready, (rank.get(child, late + position[child]), child))
    return order


def folder_packs(session: "Session") -> list[str]:
    """The enabled packs a prefab can be written into (folder packs; not zips)."""
    return [p.name for p in session.runtime.content.packs() if p.source is not None and p.source.kind == "folder"]


def prefab_target(session: "Session", pack_name: str, name: str) -> tuple[str, Path]:
    """The asset id and the file a prefab named ``name`` gets in pack ``pack_name``."""
    pack = session.runtime.content.pack(pack_name)
    if pack is None or pack.source is None or pack.source.kind != "folder":
        raise PrefabRefused(f"a prefab is written into an enabled folder pack ({', '.join(folder_packs(session))}), "
                            f"not {pack_name!r}")
    rel = f"prefabs/{slug(name, 'prefab')}.prefab.json"
    return f"{pack.name}:{rel}", Path(pack.source.path(rel))


def make_prefab(session: "Session", pack_name: str, name: str, overwrite: bool = False) -> tuple[str, int]:
    """Write the selection as a prefab into ``pack_name`` and replace it by an instance (one undo
    step); returns the prefab's asset id and the instance's root entity."""
    world = session.world
    if session.play.playing:
        raise PrefabRefused("stop Play first: the running copy is not what you edit")
    from editor.gizmo import _outermost

    roots = _outermost(world, [e for e in session.selection.ids if world.exists(e)])
    made = prefab_data(world, roots, name or (world.name_of(roots[0]) if roots else "prefab"))
    asset_id, path = prefab_target(session, pack_name, name or world.name_of(roots[0]))
    if path.exists() and not overwrite:
        raise PrefabRefused(f"{path} exists already: choose another name (or overwrite it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, dumps_canonical(made.data))
    log.info("wrote the prefab %s (%d entities) to %s", asset_id, len(made.data["entities"]), path)
    for line in made.cleared:
        log.warning("prefab %s: a reference to an entity outside the selection was cleared (%s)", asset_id, line)
    if not session.runtime.content.has(asset_id):
        raise PrefabRefused(f"the pack does not see {path} (hidden or refused name?)")
    parent = world.parent_of(roots[0])
    new_root = world.next_id()  # free now and after the selection is gone (not one of the member ids)
    steps: list[Command] = [DestroyEntity(r) for r in roots]
    if len(roots) == 1:
        root = roots[0]
        transform = transform_data(world.node(root)) or {"pos": [0.0, 0.0, 0.0]}
        root_key = made.data["entities"][0]["key"]
        members = {k: e for k, e in made.members.items() if k != root_key}
        steps.append(InstantiatePrefab(asset=asset_id, parent=parent, entity=root, transform=transform,
                                       members=members))
    else:
        points = [world.node(r).getPos() for r in roots]
        centre = [f32(sum(p.x for p in points) / len(points)), f32(sum(p.y for p in points) / len(points)),
                  f32(min(p.z for p in points))]
        steps.append(InstantiatePrefab(asset=asset_id, parent=parent, entity=new_root, transform={"pos": centre},
                                       members=dict(made.members)))
    session.do(Transaction(f"make prefab {asset_id}", steps), f"make prefab {asset_id.rsplit('/', 1)[-1]}")
    root_id = roots[0] if len(roots) == 1 else new_root
    session.selection.set([root_id])
    return asset_id, root_id


# -- a prefab on its own ---------------------------------------------------------------------------------
def open_prefab(session: "Session", asset_id: str) -> Any:
    """Open a prefab to edit it on its own (instead of the open world); Save writes the prefab file."""
    from editor.prefab_document import PrefabDocument

    came_from = session.document.path if session.document is not None else None
    document = PrefabDocument.open_prefab(session.runtime, asset_id, came_from)
    session._adopt(document)
    session.say(f"editing the prefab {asset_id}: Save writes it back")
    return document
