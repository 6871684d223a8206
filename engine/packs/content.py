"""The content registry: enabled packs in load order, and asset ids (``pack:path``) resolved and
read through one virtual file system (``vfs.py``). Every loader reads pack files through here."""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from engine.core.asset_ids import parse_asset_id
from engine.core.errors import DataError
from engine.packs.json_text import check_json_data
from engine.packs.sources import Budgets
from engine.packs.vfs import Pack, PackFileSystem, Provenance

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE_PACK_DIR = REPO_ROOT / "content" / "base"
# Packs that exist in code rather than on disk.
VIRTUAL_PACKS = {"primitive"}

__all__ = ["BASE_PACK_DIR", "Budgets", "ContentRegistry", "Pack", "default_content", "parse_asset_id"]


class ContentRegistry:
    """All enabled packs, in load order; one interface finds and reads every asset id."""

    def __init__(self, budgets: Budgets | None = None) -> None:
        self.files = PackFileSystem(budgets)
        self._importers: dict[str, Callable[[str, bytes], Any]] = {}

    @property
    def budgets(self) -> Budgets:
        return self.files.budgets

    @property
    def warnings(self) -> list[str]:
        """What mounting found worth saying (undeclared overrides, changes aimed at missing files)."""
        return self.files.warnings

    def add_pack(self, root: Path | str) -> Pack:
        """Mount a pack folder or ``.zip`` after the others; raises DataError (PackRefused for
        what loading refuses) naming the pack, the entry and what was expected."""
        pack = self.files.open_pack(root)
        if self.files.pack(pack.name) is not None or pack.name in VIRTUAL_PACKS:
            assert pack.source is not None and pack.manifest is not None
            pack.source.close()
            raise DataError(pack.manifest.source, "id", f"a pack id not already used ({pack.name!r} is)")
        self.files.mount(pack)
        return pack

    def pack(self, name: str) -> Pack | None:
        return self.files.pack(name)

    def packs(self) -> list[Pack]:
        return self.files.packs()

    def has_pack(self, name: str) -> bool:
        return self.files.pack(name) is not None or name in VIRTUAL_PACKS

    def has(self, asset_id: str) -> bool:
        """Whether an enabled pack provides the asset (after overrides) and its file is there."""
        hit = self.files.find(asset_id)
        return hit is not None and hit[0].source is not None and hit[0].source.exists(hit[1])

    def resolve(self, asset_id: str) -> Path | None:
        """A path-like name of the file behind an asset id (a real file only in a folder pack), or
        None when the pack or file is missing; raises ValueError for a malformed id. For messages
        and editors; loaders read through ``read`` and ``read_json``."""
        hit = self.files.find(asset_id)
        if hit is None or hit[0].source is None or not hit[0].source.exists(hit[1]):
            parse_asset_id(asset_id)
            return None
        assert hit[0].source is not None
        return hit[0].source.path(hit[1])

    def read(self, asset_id: str, budget: int | None = None) -> bytes:
        """The bytes of an asset (at most ``budget``, default ``budgets.file_bytes``)."""
        return self.files.read(asset_id, budget)

    def read_json(self, asset_id: str, budget: int | None = None, patched: bool = True) -> Any:
        """An asset's JSON data, patched by the packs that patch it (see ``vfs.PackFileSystem``).
        A file type an importer was added for (``add_importer``) is turned into data by it first."""
        importer = self._importers.get(PurePosixPath(asset_id.partition(":")[2]).suffix.lower())
        if importer is None:
            return self.files.read_json(asset_id, budget, patched)
        return check_json_data(importer(asset_id, self.read(asset_id, budget)), self.display(asset_id))

    def add_importer(self, suffix: str, importer: "Callable[[str, bytes], Any]") -> None:
        """Read files ending in ``suffix`` (``.csv``) as data through ``importer(asset_id, bytes)``
        (plugins declare importers; what it returns is checked like a JSON file's contents)."""
        if not suffix.startswith(".") or suffix.lower() == ".json":
            raise ValueError(f"an importer is for a file suffix like '.csv' (not {suffix!r})")
        self._importers[suffix.lower()] = importer

    def display(self, asset_id: str) -> str:
        """The file behind an asset id as messages name it (a path, or ``pack.zip/entry``)."""
        return self.files.display(asset_id)

    def stamp(self, asset_id: str) -> tuple[Any, ...]:
        """A value that changes when the asset (or a patch of it) changes; () when it is missing."""
        return self.files.stamp(asset_id)

    def why(self, asset_id: str) -> Provenance:
        """Which pack provides the asset, and which packs overrode or patched it, in order."""
        return self.files.why(asset_id)

    def writable_path(self, asset_id: str) -> Path:
        """The real file to save an edited asset into; only folder packs that can be written."""
        hit = self.files.find(asset_id)
        if hit is None:
            raise DataError(asset_id, "", "a file that exists in an enabled pack")
        pack, name = hit
        assert pack.source is not None
        if pack.source.kind != "folder":
            raise DataError(pack.source.display(name), "", f"a file in a folder pack (pack {pack.name!r} is a zip; "
                                                           "edit its folder and build it again)")
        path = pack.source.path(name)
        if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise DataError(pack.source.display(name), "", f"a file that can be written (pack {pack.name!r} is "
                                                           f"read-only here: {path.parent} cannot be written)")
        return path

    def asset_id_for(self, path: Path) -> str | None:
        """The asset id of a file inside an enabled folder pack, or None."""
        resolved = path.resolve()
        for pack in self.files.packs():
            try:
                rel = resolved.relative_to(pack.root.resolve())
            except ValueError:
                continue
            return f"{pack.name}:{rel.as_posix()}"
        return None

    def close(self) -> None:
        """Let go of the packs' open files (zips)."""
        self.files.unmount_all()


def default_content() -> ContentRegistry:
    """A registry with the engine's own ``base`` pack."""
    registry = ContentRegistry()
    base = registry.add_pack(BASE_PACK_DIR)
    base.trusted = True
    return registry
