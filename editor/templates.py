"""What Create makes: an empty entity, primitives, lights, a camera, a model or a prefab from the
asset browser. Each is one command (``CreateEntity`` or ``InstantiatePrefab``) placed at a point
the caller chooses (the editor camera's target), with a name not used yet in the world."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from panda3d.core import Point3

from engine.core.commands import Command
from engine.core.edit_commands import CreateEntity
from engine.core.fields import f32
from engine.core.prefab_commands import InstantiatePrefab

if TYPE_CHECKING:
    from engine.core.world import World

# kind -> (menu label, default name, components)
TEMPLATES: dict[str, tuple[str, str, dict[str, dict[str, Any]]]] = {
    "empty": ("Empty", "Empty", {}),
    "box": ("Box", "Box", {"MeshRenderer": {"model": "primitive:box"}}),
    "sphere": ("Sphere", "Sphere", {"MeshRenderer": {"model": "primitive:sphere"}}),
    "capsule": ("Capsule", "Capsule", {"MeshRenderer": {"model": "primitive:capsule"}}),
    "cylinder": ("Cylinder", "Cylinder", {"MeshRenderer": {"model": "primitive:cylinder"}}),
    "plane": ("Plane", "Plane", {"MeshRenderer": {"model": "primitive:plane"}}),
    "point_light": ("Point light", "Point light", {"Light": {"kind": "point"}}),
    "spot_light": ("Spot light", "Spot light", {"Light": {"kind": "spot"}}),
    "directional_light": ("Directional light", "Sun", {"Light": {"kind": "directional"}}),
    "camera": ("Camera", "Camera", {"Camera": {"active": False}}),
}
LIFT = {"box": 0.5, "sphere": 0.5, "capsule": 1.0, "cylinder": 0.5, "point_light": 2.0, "spot_light": 3.0,
        "directional_light": 10.0, "camera": 1.6}


def unique_name(world: "World", base: str) -> str:
    """``base``, or ``base 2``, ``base 3``... the first that no entity has."""
    taken = {world.name_of(eid) for eid in world.entities()}
    if base not in taken:
        return base
    n = 2
    while f"{base} {n}" in taken:
        n += 1
    return f"{base} {n}"


def _pos(at: Point3, lift: float = 0.0) -> list[float]:
    return [f32(at.x), f32(at.y), f32(max(at.z, 0.0) + lift)]


def create_command(world: "World", kind: str, at: Point3, parent: int = 0) -> CreateEntity:
    """A new entity of one of the TEMPLATES kinds at ``at`` (lifted so it stands on the ground)."""
    if kind not in TEMPLATES:
        raise KeyError(f"unknown kind {kind!r}; kinds are {', '.join(TEMPLATES)}")
    _label, name, components = TEMPLATES[kind]
    transform: dict[str, Any] = {"pos": _pos(at, LIFT.get(kind, 0.0))}
    if kind in ("directional_light", "spot_light"):
        transform["hpr"] = [30, -60, 0]
    if kind == "plane":
        transform["scale"] = [4, 4, 1]
    return CreateEntity.new(unique_name(world, name), parent, {t: dict(v) for t, v in components.items()}, transform)


def asset_command(world: "World", asset_id: str, at: Point3) -> Command:
    """Place an asset: a prefab becomes an instance, a model an entity that draws it."""
    if asset_id.endswith(".prefab.json"):
        return InstantiatePrefab(asset=asset_id, transform={"pos": _pos(at)})
    stem = asset_id.rsplit("/", 1)[-1].split(".")[0] or "Model"
    return CreateEntity.new(unique_name(world, stem.replace("_", " ").capitalize()), 0,
                            {"MeshRenderer": {"model": asset_id}}, {"pos": _pos(at)})
