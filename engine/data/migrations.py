"""Schema versions of world and prefab files, and the steps that bring old files up to date.

Each step takes the parsed data of version N and returns version N+1. Loading runs every step
needed in order; saving always writes the current version. Add a step here whenever the format
changes, and a test file of the old version beside the tests.
"""
from __future__ import annotations

from typing import Any, Callable

from engine.core.errors import DataError

CURRENT_VERSION = 3
VERSION_KEYS = {"world": "storm_world", "prefab": "storm_prefab"}


def _v1_to_v2(data: dict[str, Any], source: str) -> dict[str, Any]:
    """Version 1 kept pos/hpr/scale on the entity and components as a list of {"type": ...}."""
    entities = data.get("entities", [])
    if not isinstance(entities, list):
        return data
    for index, entity in enumerate(entities):
        if not isinstance(entity, dict):
            continue
        transform = {key: entity.pop(key) for key in ("pos", "hpr", "scale") if key in entity}
        if transform:
            if "transform" in entity:
                raise DataError(source, f"entities[{index}].transform",
                                "flat pos/hpr/scale or nothing in schema version 1", entity["transform"])
            entity["transform"] = transform
        components = entity.get("components")
        if isinstance(components, list):
            converted: dict[str, Any] = {}
            for c_index, component in enumerate(components):
                if not isinstance(component, dict) or not isinstance(component.get("type"), str):
                    raise DataError(source, f"entities[{index}].components[{c_index}]",
                                    "an object with a \"type\" string (schema version 1)", component)
                fields = dict(component)
                type_name = fields.pop("type")
                if type_name in converted:
                    raise DataError(source, f"entities[{index}].components[{c_index}].type",
                                    "each component type once per entity", type_name)
                converted[type_name] = fields
            entity["components"] = converted
    return data


def _v2_to_v3(data: dict[str, Any], source: str) -> dict[str, Any]:
    """Version 3 keeps prefab members' ids in the instance block (``members``) and can remove
    members and components of an instance; a version 2 file has neither, so its members get
    ids when loaded (above the file's own) and keep them from the next save on."""
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any], str], dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3}


def migrate(data: Any, kind: str, source: str) -> dict[str, Any]:
    """Check the version key of a world or prefab file and migrate it to the current version."""
    if not isinstance(data, dict):
        raise DataError(source, "", f"a JSON object with \"{VERSION_KEYS[kind]}\"", type(data).__name__)
    key = VERSION_KEYS[kind]
    version = data.get(key)
    if isinstance(version, bool) or not isinstance(version, int):
        raise DataError(source, key, f"a schema version number (1 to {CURRENT_VERSION})", version)
    if version > CURRENT_VERSION:
        raise DataError(source, key, f"schema version {CURRENT_VERSION} or older; this file is from a newer "
                                     "Storm, update Storm to open it", version)
    if version < 1:
        raise DataError(source, key, f"a schema version from 1 to {CURRENT_VERSION}", version)
    if version < CURRENT_VERSION:  # in place: loaders pass data they just parsed
        while version < CURRENT_VERSION:
            data = MIGRATIONS[version](data, source)
            version += 1
        data[key] = version
    return data
