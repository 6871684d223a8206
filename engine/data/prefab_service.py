"""The World's prefab service: prefab instances for commands (``InstantiatePrefab``), and applied
prefab edits (``ApplyOverride``) written back into the prefab files."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.core.entity_specs import EntitySpec
from engine.core.errors import DataError
from engine.data.entity_blocks import LoadContext
from engine.data.migrations import migrate
from engine.data.prefab_expand import expand_instance
from engine.data.prefab_files import PrefabLibrary
from engine.packs.json_text import atomic_write, dumps_canonical

if TYPE_CHECKING:
    from engine.core.world import World


class PrefabService:
    """What ``world.services["prefabs"]`` holds: the runtime's PrefabLibrary seen from one World."""

    def __init__(self, library: PrefabLibrary) -> None:
        self.library = library

    def instance_specs(self, world: "World", asset_id: str, root_id: int, parent: int, overrides: Any,
                       removed: Any, members: Any) -> list[EntitySpec]:
        """Specs of a new instance; members without an id in ``members`` get the next free ids."""
        ctx = LoadContext(f"prefab {asset_id}", world.registry)
        if not isinstance(members, dict) or not all(isinstance(v, int) and not world.exists(v) for v in members.values()):
            raise DataError(ctx.source, "members", "an object mapping member keys to free entity ids", members)
        taken = {root_id, *members.values()}
        cursor = [max(world.next_id(), root_id + 1)]

        def allocate() -> int:
            while cursor[0] in taken or world.exists(cursor[0]):
                cursor[0] += 1
            taken.add(cursor[0])
            return cursor[0]

        return expand_instance(self.library, asset_id, ctx, "prefab", root_id=root_id, parent=parent,
                               member_ids=members, allocate=allocate, overrides=overrides, overrides_path="overrides",
                               removed=removed, removed_path="removed")

    def write_edits(self, world: "World") -> list[str]:
        """Write ``world.prefab_edits`` into the prefab files (atomically) and clear them; returns
        the files written."""
        written = []
        for asset_id, members in sorted(world.prefab_edits.items()):
            content = self.library.content
            path = content.writable_path(asset_id)
            data = migrate(content.read_json(asset_id, patched=False), "prefab", str(path))
            blocks = {block.get("key"): block for block in data.get("entities", []) if isinstance(block, dict)}
            for key, types in members.items():
                block = blocks.get(key)
                if block is None:
                    raise DataError(str(path), "entities", f"a member with key {key!r}")
                components = block.setdefault("components", {})
                for type_name, values in types.items():
                    cls = world.registry.resolve(type_name)
                    entry = components.setdefault(type_name, {})
                    for name, value in values.items():
                        if value == cls.fields[name].default_data:
                            entry.pop(name, None)
                        else:
                            entry[name] = value
            atomic_write(path, dumps_canonical(data))
            written.append(str(path))
        world.prefab_edits.clear()
        return written
