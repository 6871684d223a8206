"""The content registry: enabled packs in load order, and asset ids (``pack:path``) resolved through them."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.asset_ids import parse_asset_id
from engine.core.errors import DataError
from engine.packs.manifest import PackManifest, read_manifest

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE_PACK_DIR = REPO_ROOT / "content" / "base"
# Packs that exist in code rather than on disk.
VIRTUAL_PACKS = {"primitive"}


@dataclass
class Pack:
    """One content pack: a folder with a manifest (``pack.toml``, or the old ``pack.json``).
    ``trusted``: the player lets its code run in the engine's process; ``settings``: its
    declared settings with the profile's values (engine.packs.loading fills both)."""

    name: str
    root: Path
    version: str
    title: str
    allows_code: bool
    manifest: PackManifest | None = None
    trusted: bool = False
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dir(cls, root: Path) -> "Pack":
        manifest = read_manifest(root)
        return cls(manifest.id, root, str(manifest.version), manifest.name, manifest.allows_code, manifest)


class ContentRegistry:
    """All enabled packs, in load order; one interface resolves every asset id."""

    def __init__(self) -> None:
        self._packs: dict[str, Pack] = {}

    def add_pack(self, root: Path | str) -> Pack:
        pack = Pack.from_dir(Path(root))
        if pack.name in self._packs or pack.name in VIRTUAL_PACKS:
            raise DataError(str(Path(root) / "pack.json"), "name", f"a pack name not already used ({pack.name!r} is)")
        self._packs[pack.name] = pack
        return pack

    def pack(self, name: str) -> Pack | None:
        return self._packs.get(name)

    def packs(self) -> list[Pack]:
        return list(self._packs.values())

    def resolve(self, asset_id: str) -> Path | None:
        """The file behind an asset id, or None when the pack or file is missing."""
        pack_name, path = parse_asset_id(asset_id)
        pack = self._packs.get(pack_name)
        if pack is None:
            return None
        candidate = pack.root / path
        return candidate if candidate.is_file() else None

    def has_pack(self, name: str) -> bool:
        return name in self._packs or name in VIRTUAL_PACKS

    def asset_id_for(self, path: Path) -> str | None:
        """The asset id of a file inside an enabled pack, or None."""
        resolved = path.resolve()
        for pack in self._packs.values():
            try:
                rel = resolved.relative_to(pack.root.resolve())
            except ValueError:
                continue
            return f"{pack.name}:{rel.as_posix()}"
        return None


def default_content() -> ContentRegistry:
    """A registry with the engine's own ``base`` pack."""
    registry = ContentRegistry()
    base = registry.add_pack(BASE_PACK_DIR)
    base.trusted = True
    return registry
