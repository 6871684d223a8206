"""A prefab opened on its own: its members as plain entities of a small world, edited like any
world (commands, undo, the inspector), and saved back into the prefab file in the prefab format,
atomically, keeping the members' keys (so instances elsewhere, and their overrides, still match).

Only prefabs in folder packs can be edited (a zip is built from its folder). A prefab holding
nested prefabs is refused: writing it back would flatten them.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from editor.document import Document
from engine.core.entity_specs import build_entities
from engine.core.errors import DataError, StormError
from engine.data.entity_blocks import LoadContext
from engine.packs.json_text import atomic_write, dumps_canonical

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.host.runtime import Runtime

log = logging.getLogger("storm.editor")
PREFAB_SUFFIX = ".prefab.json"


class PrefabDocument(Document):
    """A prefab being edited; ``path`` is the prefab file, ``asset_id`` its id."""

    def __init__(self, world: "World", path: Path, asset_id: str, keys: dict[int, str],
                 came_from: Path | None = None) -> None:
        super().__init__(world, path)
        self.asset_id = asset_id
        self.keys = keys  # entity -> member key (new entities get keys from their names)
        self.came_from = came_from  # the world that was open before (Back goes there)

    @classmethod
    def open_prefab(cls, runtime: "Runtime", asset_id: str, came_from: Path | None = None) -> "PrefabDocument":
        """Read a prefab into a world of its own; raises StormError naming the file and the problem."""
        content = runtime.content
        path = content.writable_path(asset_id)
        world = runtime.new_world(name=asset_id.rsplit("/", 1)[-1].removesuffix(PREFAB_SUFFIX))
        try:
            prefab = runtime.prefabs.load(asset_id, LoadContext(f"prefab {asset_id}", world.registry), "prefab")
            nested = [m.key for m in prefab.members if m.nested]
            if nested:
                raise DataError(str(path), f"entities (member {nested[0]!r})",
                                "a prefab without nested prefabs (editing nested prefabs on their own is not supported "
                                "yet: edit the inner prefab)")
            specs = world.services["prefabs"].instance_specs(world, asset_id, 1, 0, {}, None, {})
        except (StormError, ValueError) as exc:
            world.close()
            raise exc if isinstance(exc, StormError) else DataError(str(path), "", str(exc)) from None
        instance = specs[0].instance
        keys = {eid: key for key, eid in instance.members.items()} if instance is not None else {}
        for spec in specs:
            spec.instance = None
            spec.member_of = None
        build_entities(world, specs)
        return cls(world, path, asset_id, keys, came_from)

    def file_text(self) -> str:
        """The prefab file as saving writes it now; raises DataError when it cannot be written."""
        return dumps_canonical(self._made().data)

    def _made(self) -> Any:
        from editor.prefab_tools import PrefabRefused, prefab_data

        world = self.world
        roots = [e for e in sorted(world.entities()) if not world.parent_of(e)]
        if len(roots) != 1:
            raise DataError(str(self.path), "entities",
                            f"one root entity (the prefab has {len(roots)} top-level entities: parent them under one)")
        try:
            return prefab_data(world, roots, world.name_of(roots[0]), self.keys, root_transform=True)
        except PrefabRefused as exc:
            raise DataError(str(self.path), "entities", exc.reason) from None

    def save(self, path: Path | str | None = None) -> Path:
        """Write the members back into the prefab file (``path`` is ignored: a prefab stays where it is)."""
        made = self._made()
        assert self.path is not None
        atomic_write(self.path, dumps_canonical(made.data))
        self.keys = {eid: key for key, eid in made.members.items()}
        self.history.mark_saved()
        self.changed()
        log.info("saved the prefab %s (%s)", self.asset_id, self.path)
        return self.path

    def title(self) -> str:
        return f"{'*' if self.dirty else ''}prefab {self.asset_id} - Storm editor"


def is_prefab_path(path: Any) -> bool:
    return str(path).lower().endswith(PREFAB_SUFFIX)
