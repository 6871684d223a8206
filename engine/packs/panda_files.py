"""Pack files handed to Panda3D by name, for the parts of Panda3D that only open files by name
(its audio decoders and the OpenAL manager): the bytes, read through the content registry with
its checks and budgets, are written into an in-memory mount of Panda3D's VirtualFileSystem under
a private prefix. Nothing of the real file system is mounted or opened on the way.

Each version of a file gets its own name (a counter in the path), so Panda3D's caches never
serve an old sound after a pack changes; the previous version is dropped from memory.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from panda3d.core import Filename, VirtualFileMountRamdisk, VirtualFileSystem

if TYPE_CHECKING:
    from engine.packs.content import ContentRegistry

MOUNT_POINT = "/storm-packs"


class PandaFiles:
    """The in-memory mount and the files published into it (one per process: Panda3D's file
    system is global)."""

    def __init__(self) -> None:
        self._vfs = VirtualFileSystem.getGlobalPtr()
        self._mount = VirtualFileMountRamdisk()
        self._vfs.mount(self._mount, MOUNT_POINT, 0)
        self._published: dict[str, tuple[tuple[object, ...], str]] = {}
        self._serial = 0
        self._lock = threading.Lock()

    def publish(self, content: "ContentRegistry", asset_id: str, budget: int | None = None) -> str:
        """The Panda3D file name under which the asset's current bytes can be opened; raises
        DataError as ``content.read`` does."""
        stamp = content.stamp(asset_id)
        key = content.display(asset_id)  # the file itself: registries over the same pack share it
        with self._lock:
            known = self._published.get(key)
            if known is not None and known[0] == stamp:
                return known[1]
            data = content.read(asset_id, budget)
            self._serial += 1
            pack, path = asset_id.split(":", 1)
            name = f"{MOUNT_POINT}/{self._serial}/{pack}/{path}"
            self._vfs.makeDirectoryFull(Filename(name).getDirname())
            if not self._vfs.writeFile(Filename(name), data, False):
                raise OSError(f"could not hand {asset_id} to Panda3D's file system")
            if known is not None:
                self._vfs.deleteFile(Filename(known[1]))
            self._published[key] = (stamp, name)
            return name


_shared: PandaFiles | None = None
_shared_lock = threading.Lock()


def panda_files() -> PandaFiles:
    """The process's one PandaFiles (made on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = PandaFiles()
        return _shared
