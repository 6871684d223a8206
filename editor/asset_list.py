"""The asset browser's data, without widgets: every file of a known kind in the enabled packs (as
asset ids, ``base:models/crate.gltf``), the folder tree they make (pack, then path), and the
filter the browser applies (folder, kind, search text).

The listing only names files the packs' sources already list (a folder pack's checked walk, a
zip pack's entries), in load order, a later pack's override showing once; anything opened is read
later through the content registry, with its checks and budgets.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.packs.content import ContentRegistry

KINDS = {"model": (".gltf", ".glb", ".bam", ".egg", ".obj"), "prefab": (".prefab.json",),
         "sound": (".wav", ".ogg", ".oga", ".flac", ".opus"), "image": (".png", ".jpg", ".jpeg", ".tga", ".bmp"),
         "world": (".world.json",)}
PLACEABLE = ("model", "prefab")
MAX_FILES_PER_PACK = 20000


def kind_of(name: str) -> str:
    """The kind of a file by its name ('' for none the browser shows)."""
    lower = name.lower()
    for kind in ("prefab", "world", "model", "sound", "image"):
        if lower.endswith(KINDS[kind]):
            return kind
    return ""


@dataclass(frozen=True)
class Asset:
    """One file of a known kind in an enabled pack."""

    id: str
    kind: str

    @property
    def pack(self) -> str:
        return self.id.partition(":")[0]

    @property
    def path(self) -> str:
        return self.id.partition(":")[2]

    @property
    def folder(self) -> str:
        """``pack/folder/sub`` (the tree node the file is in)."""
        parent = self.path.rpartition("/")[0]
        return f"{self.pack}/{parent}" if parent else self.pack

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]


def list_assets(content: "ContentRegistry") -> list[Asset]:
    """Every file of a known kind in the enabled packs, sorted by asset id."""
    found: dict[str, str] = {}
    for pack in content.packs():
        source = pack.source
        if source is None:
            continue
        for name in list(source.files)[:MAX_FILES_PER_PACK]:
            if name.startswith("overrides/"):
                continue  # a pack's replacement of another pack's file shows under that pack's id
            kind = kind_of(name)
            if kind:
                found[f"{pack.name}:{name}"] = kind
    return [Asset(asset_id, kind) for asset_id, kind in sorted(found.items())]


def folders_of(assets: list[Asset]) -> list[str]:
    """Every folder (``pack``, ``pack/models``, ...) holding an asset or a folder that does, sorted
    so a folder comes right before what is inside it."""
    folders: set[str] = set()
    for asset in assets:
        parts = asset.folder.split("/")
        for i in range(1, len(parts) + 1):
            folders.add("/".join(parts[:i]))
    return sorted(folders, key=lambda f: f.split("/"))


def visible_folders(folders: list[str], open_folders: set[str]) -> list[str]:
    """The folders shown in the tree: packs, and the children of open folders."""
    shown = []
    for folder in folders:
        parent = folder.rpartition("/")[0]
        if not parent or (parent in open_folders and all(
                "/".join(folder.split("/")[:i]) in open_folders for i in range(1, folder.count("/") + 1))):
            shown.append(folder)
    return shown


def matching(assets: list[Asset], folder: str = "", kind: str = "all", needle: str = "") -> list[Asset]:
    """The assets inside ``folder`` (and its subfolders; '' for all) of ``kind`` whose id contains
    ``needle`` (any case)."""
    needle = needle.lower().strip()
    out = []
    for asset in assets:
        if folder and asset.folder != folder and not asset.folder.startswith(folder + "/"):
            continue
        if kind not in ("", "all") and asset.kind != kind:
            continue
        if needle and needle not in asset.id.lower():
            continue
        out.append(asset)
    return out
