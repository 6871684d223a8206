"""Prim textures: fetched through the region's texture capability, decoded off the tick, applied
at the start of a tick.

``TextureFetcher`` runs a few worker threads (bounded concurrency): each takes a texture id,
reads the raw asset from the disk cache or GETs ``<GetTexture cap>?texture_id=<uuid>`` (the
handler OpenSimulator 0.9.2 serves for both its ``GetTexture`` and ``ViewerAsset``
capabilities), refuses it from its first bytes when the codestream header declares more
pixels than the budget, decodes it (``j2k.decode``, at most ``max_side`` a side) and hands the
pixels back. ``DiskCache`` keeps raw assets by UUID under the XDG cache (one folder per grid,
bounded in files and bytes, written atomically). ``RegionTextures`` (the World's thread)
turns results into Panda3D textures on the entities that show them, keeps them in a bounded
cache (count and bytes: past it the least recently used texture is dropped and its prims show
their colour again), and logs each texture that fails once; a failed prim keeps its colour.
"""
from __future__ import annotations

import hashlib
import logging
import os
import queue
import shutil
import threading
import urllib.error
import urllib.request
import uuid
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from netcode.opensim.j2k import HEADER_BYTES, TextureError, codestream_size, decode
from netcode.opensim.texture_entry import FaceLook, TextureEntry

if TYPE_CHECKING:
    from panda3d.core import Texture, TransformState

    from engine.core.world import World

log = logging.getLogger("storm.opensim")
MAX_TEXTURE_BYTES = 4 * 1024 * 1024
MAX_WANTED = 4096              # texture ids waiting for a worker
MAX_FAILED_LOGGED = 20         # distinct failures logged one by one; then every 100th
RESULTS_PER_TICK = 8           # decoded textures turned into Panda3D textures in one tick
ZERO = uuid.UUID(int=0)
MAX_GRIDS = 16                 # grid folders kept in the disk cache


def texture_cache_folder(login_uri: str) -> Path | None:
    """``$XDG_CACHE_HOME/storm/opensim-textures/<grid>`` (``STORM_OPENSIM_TEXTURE_CACHE``: another
    folder, or ``off``)."""
    explicit = os.environ.get("STORM_OPENSIM_TEXTURE_CACHE", "")
    if explicit.lower() in ("off", "0", "no", "false"):
        return None
    base = Path(explicit) if explicit else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / \
        "storm" / "opensim-textures"
    folder = base / hashlib.sha256(login_uri.encode("utf-8")).hexdigest()[:16]
    _prune_grids(base, folder)
    return folder


def _prune_grids(base: Path, keeping: Path) -> None:
    """At most MAX_GRIDS grid folders: the least recently used go (a login touches its own)."""
    try:
        keeping.mkdir(parents=True, exist_ok=True)
        os.utime(keeping)
        others = sorted((p for p in base.iterdir() if p.is_dir() and p != keeping), key=lambda p: p.stat().st_mtime)
    except OSError:
        return
    for old in others[:max(0, len(others) - (MAX_GRIDS - 1))]:
        shutil.rmtree(old, ignore_errors=True)


class DiskCache:
    """Raw texture assets by UUID (a UUID's asset never changes), bounded in files and bytes."""

    def __init__(self, folder: Path, max_files: int = 4096, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.folder = folder
        self.max_files, self.max_bytes = max_files, max_bytes
        self._lock = threading.Lock()
        self._sizes: OrderedDict[str, int] | None = None      # name -> bytes, oldest first

    def _index(self) -> OrderedDict[str, int]:
        if self._sizes is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            found = []
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    if entry.name.endswith(".j2c") and entry.is_file():
                        stat = entry.stat()
                        found.append((stat.st_mtime, entry.name, stat.st_size))
            self._sizes = OrderedDict((name, size) for _, name, size in sorted(found))
            self._prune()
        return self._sizes

    def get(self, texture_id: uuid.UUID) -> bytes | None:
        name = f"{texture_id}.j2c"
        with self._lock:
            if name not in self._index():
                return None
        try:
            with (self.folder / name).open("rb") as stream:
                data = stream.read(MAX_TEXTURE_BYTES + 1)
        except OSError:
            return None
        return data if 0 < len(data) <= MAX_TEXTURE_BYTES else None

    def put(self, texture_id: uuid.UUID, data: bytes) -> None:
        name = f"{texture_id}.j2c"
        try:
            with self._lock:
                sizes = self._index()
                temporary = self.folder / f".{name}.{threading.get_ident()}.tmp"
                with temporary.open("wb") as stream:
                    stream.write(data)
                    stream.flush()
                    os.fsync(stream.fileno())
                temporary.replace(self.folder / name)
                sizes.pop(name, None)
                sizes[name] = len(data)
                self._prune()
        except OSError as exc:
            log.warning("opensim: the texture cache %s is not writable: %s", self.folder, exc)

    def _prune(self) -> None:
        sizes = self._sizes
        assert sizes is not None
        total = sum(sizes.values())
        while sizes and (len(sizes) > self.max_files or total > self.max_bytes):
            name, size = sizes.popitem(last=False)
            total -= size
            (self.folder / name).unlink(missing_ok=True)


@dataclass(frozen=True)
class Decoded:
    """A decoded texture: RGBA rows bottom to top."""

    texture_id: uuid.UUID
    width: int
    height: int
    rgba: bytes


def download(url: str, texture_id: uuid.UUID, timeout: float = 20.0) -> bytes:
    """One texture asset from a texture capability, refused from its header when too large."""
    request = urllib.request.Request(f"{url}{'&' if '?' in url else '?'}texture_id={texture_id}",
                                     headers={"Accept": "image/x-j2c"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the region's own capability)
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > MAX_TEXTURE_BYTES:
                raise TextureError(f"the capability offers {declared} bytes, more than {MAX_TEXTURE_BYTES}")
            head = response.read(HEADER_BYTES)
            codestream_size(head)                       # a declared 60000x60000 stops here
            data = head + response.read(MAX_TEXTURE_BYTES + 1 - len(head))
    except urllib.error.HTTPError as exc:
        raise TextureError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise TextureError(f"not fetched: {getattr(exc, 'reason', exc)}") from None
    if len(data) > MAX_TEXTURE_BYTES:
        raise TextureError(f"more than {MAX_TEXTURE_BYTES} bytes")
    return data


class TextureFetcher:
    """Worker threads that fetch (or read from the disk cache) and decode textures."""

    def __init__(self, capability: Callable[[], str | None], cache: DiskCache | None = None, workers: int = 2,
                 max_side: int = 512, capability_wait: float = 30.0) -> None:
        self.capability = capability
        self.cache = cache
        self.max_side = max_side
        self.capability_wait = capability_wait
        self.stats: Counter[str] = Counter()
        self._queue: queue.Queue[uuid.UUID] = queue.Queue(MAX_WANTED)
        self._results: deque[tuple[uuid.UUID, Decoded | None, str]] = deque()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, name=f"storm-opensim-textures-{n}", daemon=True)
                         for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def want(self, texture_id: uuid.UUID) -> bool:
        """Ask for a texture (the World's thread); False when too many are waiting already."""
        try:
            self._queue.put_nowait(texture_id)
        except queue.Full:
            return False
        return True

    def results(self, limit: int = RESULTS_PER_TICK) -> list[tuple[uuid.UUID, Decoded | None, str]]:
        """Up to ``limit`` finished textures: (id, decoded or None, why it failed)."""
        out = []
        while self._results and len(out) < limit:
            out.append(self._results.popleft())
        return out

    def close(self) -> None:
        self._stop.set()

    def _url(self) -> str | None:
        waited = 0.0
        while not self._stop.is_set():
            url = self.capability()
            if url or waited >= self.capability_wait:
                return url
            self._stop.wait(0.2)
            waited += 0.2
        return None

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                texture_id = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                data = self.cache.get(texture_id) if self.cache is not None else None
                fetched = data is None
                if not fetched:
                    self.stats["from_cache"] += 1
                else:
                    url = self._url()
                    if not url:
                        raise TextureError("the region granted no texture capability (GetTexture or ViewerAsset)")
                    data = download(url, texture_id)
                    self.stats["fetched"] += 1
                width, height, rgba = decode(data, self.max_side)
                if self.cache is not None and fetched:
                    self.cache.put(texture_id, data)     # only what decoded is kept
                self.stats["decoded"] += 1
                self._results.append((texture_id, Decoded(texture_id, width, height, rgba), ""))
            except TextureError as exc:
                self.stats["failed"] += 1
                self._results.append((texture_id, None, str(exc)))
            except Exception as exc:  # a bug must not end the worker: the texture fails, the visit goes on
                self.stats["failed"] += 1
                self._results.append((texture_id, None, f"{type(exc).__name__}: {exc}"))


class RegionTextures:
    """Which entity shows which texture, and the Panda3D textures made for them (World's thread)."""

    def __init__(self, world: "World", fetcher: TextureFetcher, max_count: int = 1024,
                 max_bytes: int = 384 * 1024 * 1024) -> None:
        self.world = world
        self.fetcher = fetcher
        self.max_count, self.max_bytes = max_count, max_bytes
        self.textures: OrderedDict[uuid.UUID, "Texture"] = OrderedDict()
        self.bytes = 0
        self.users: dict[uuid.UUID, set[int]] = {}
        self.shown: dict[int, tuple[uuid.UUID, FaceLook]] = {}
        self.requested: set[uuid.UUID] = set()
        self.failed: set[uuid.UUID] = set()
        self.stats: Counter[str] = Counter()
        self.pixels_wanted: set[uuid.UUID] = set()
        self.on_pixels: Callable[[uuid.UUID, Decoded], None] | None = None    # told each wanted texture's pixels

    def want_pixels(self, texture_id: uuid.UUID) -> None:
        """Ask for a texture's decoded pixels (a sculpt map), handed to ``on_pixels`` at a tick; one
        that fails is logged once like any texture."""
        if texture_id in self.pixels_wanted or texture_id in self.failed or texture_id == ZERO:
            return
        if len(self.pixels_wanted) >= MAX_WANTED:
            self._fail(texture_id, f"more than {MAX_WANTED} sculpt maps are waiting to be fetched")
            return
        self.pixels_wanted.add(texture_id)
        if texture_id not in self.requested:
            if self.fetcher.want(texture_id):
                self.requested.add(texture_id)
            else:
                self.pixels_wanted.discard(texture_id)
                self._fail(texture_id, f"more than {MAX_WANTED} textures are waiting to be fetched")

    def show(self, entity: int, look: FaceLook | TextureEntry | None) -> None:
        """The entity shows ``look.texture`` (None or the zero id: none) with the look's repeats,
        offsets and rotation: a face's look, or a TextureEntry's default face."""
        if not entity:
            return                                       # the object was not mirrored
        if isinstance(look, TextureEntry):
            look = look.look
        texture_id = look.texture if look is not None else None
        old = self.shown.get(entity)
        if old is not None and old[1] == look:
            return
        self.forget(entity)
        if self.world.exists(entity):
            self._bare(entity)                           # until its own texture arrives
        if texture_id is None or texture_id == ZERO or look is None:
            return
        self.shown[entity] = (texture_id, look)
        self.users.setdefault(texture_id, set()).add(entity)
        if texture_id in self.textures:
            self.textures.move_to_end(texture_id)
            self._apply(entity)
        elif texture_id not in self.requested and texture_id not in self.failed:
            if self.fetcher.want(texture_id):
                self.requested.add(texture_id)
            else:
                self._fail(texture_id, f"more than {MAX_WANTED} textures are waiting to be fetched")

    def forget(self, entity: int) -> None:
        """The entity shows no texture any more (it was killed, or its texture changed)."""
        old = self.shown.pop(entity, None)
        if old is None:
            return
        users = self.users.get(old[0])
        if users is not None:
            users.discard(entity)
            if not users:
                del self.users[old[0]]
        if self.world.exists(entity):
            self._bare(entity)
            self.world.node(entity).clearTexTransform()

    def _bare(self, entity: int) -> None:
        """The entity draws no texture; a prim's face entity not its prim's either (Panda3D hands a
        node's texture down to its children)."""
        if self.world.parent_of(entity):
            self.world.node(entity).setTextureOff(1)
        else:
            self.world.node(entity).clearTexture()

    def update(self) -> None:
        """Turn finished textures into Panda3D textures on the entities that show them."""
        for texture_id, decoded, reason in self.fetcher.results():
            self.requested.discard(texture_id)
            if decoded is None:
                self.pixels_wanted.discard(texture_id)
                self._fail(texture_id, reason)
                continue
            if texture_id in self.pixels_wanted:
                self.pixels_wanted.discard(texture_id)
                self.stats["pixels"] += 1
                if self.on_pixels is not None:
                    self.on_pixels(texture_id, decoded)
                if texture_id not in self.users:
                    continue                             # only a sculpt map: no Panda texture of it
            if texture_id in self.textures:
                continue                                 # fetched again for its pixels: shown already
            self.textures[texture_id] = _panda_texture(decoded)
            self.bytes += len(decoded.rgba)
            self.stats["loaded"] += 1
            for entity in list(self.users.get(texture_id, ())):
                self._apply(entity)
            while len(self.textures) > self.max_count or self.bytes > self.max_bytes:
                self._evict()

    def _apply(self, entity: int) -> None:
        shown = self.shown.get(entity)
        if shown is None or shown[0] not in self.textures or not self.world.exists(entity):
            return
        from panda3d.core import TexMatrixAttrib, TextureStage, TransformState

        texture_id, look = shown
        node = self.world.node(entity)
        node.setTexture(self.textures[texture_id], 1)
        transform = texture_transform(look.repeat, look.offset, look.rotation)
        face = 1 if self.world.parent_of(entity) else 0  # a face's mapping replaces its prim's (Panda3D composes them)
        if transform is not None or face:
            node.setAttrib(TexMatrixAttrib.make().addStage(TextureStage.getDefault(),
                                                           transform or TransformState.makeIdentity(), face))
        self.stats["applied"] += 1

    def _evict(self) -> None:
        texture_id, texture = self.textures.popitem(last=False)
        self.bytes -= texture.getXSize() * texture.getYSize() * 4
        self.failed.add(texture_id)                     # not fetched again this visit: the bound holds
        self.stats["evicted"] += 1
        for entity in list(self.users.get(texture_id, ())):
            if self.world.exists(entity):
                self._bare(entity)

    def _fail(self, texture_id: uuid.UUID, reason: str) -> None:
        if len(self.failed) < 65536:
            self.failed.add(texture_id)
        self.stats["failed"] += 1
        count = self.stats["failed"]
        if count <= MAX_FAILED_LOGGED or count % 100 == 0:
            log.warning("opensim: texture %s not shown (its prims keep their colour): %s%s", texture_id,
                        reason[:300], f" ({count} textures so far)" if count > MAX_FAILED_LOGGED else "")

    def close(self) -> None:
        self.fetcher.close()


def texture_transform(repeat: tuple[float, float], offset: tuple[float, float],
                      rotation: float) -> "TransformState | None":
    """A face's texture mapping as viewers apply it, about the face's centre: turned by
    ``rotation``, scaled by the repeats, moved by the offsets (None: the identity)."""
    if repeat == (1.0, 1.0) and offset == (0.0, 0.0) and rotation == 0.0:
        return None
    import math

    from panda3d.core import LMatrix4f, TransformState

    c, s = math.cos(rotation), math.sin(rotation)
    (ru, rv), (ou, ov) = repeat, offset
    turn = LMatrix4f(c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1)
    matrix = (LMatrix4f.translateMat(-0.5, -0.5, 0) * turn * LMatrix4f.scaleMat(ru, rv, 1)
              * LMatrix4f.translateMat(ou + 0.5, ov + 0.5, 0))
    return TransformState.makeMat(matrix)


def _panda_texture(decoded: Decoded) -> "Texture":
    from panda3d.core import SamplerState, Texture

    texture = Texture(str(decoded.texture_id))
    texture.setup2dTexture(decoded.width, decoded.height, Texture.T_unsigned_byte, Texture.F_srgb_alpha)
    texture.setRamImageAs(decoded.rgba, "RGBA")
    texture.setKeepRamImage(False)                      # drawn from the GPU's copy once uploaded
    texture.setMinfilter(SamplerState.FT_linear_mipmap_linear)
    texture.setWrapU(SamplerState.WM_repeat)
    texture.setWrapV(SamplerState.WM_repeat)
    return texture
