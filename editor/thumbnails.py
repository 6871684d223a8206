"""Model thumbnails for the asset browser: each model drawn once offscreen by Panda3D and kept as
a PNG in the user's cache folder, keyed by a hash of the model's bytes (so an edited model gets a
new picture and an unchanged one is never drawn twice, across sessions and worlds).

The drawing uses the editor view's own Panda3D engine (one ShowBase per process): a small
offscreen buffer sharing the view's graphics state, with its own scene, two lights and a camera
that frames the model's bounds from a three-quarter angle. While a thumbnail draws, every other
output is switched off, so the view and its shadow buffers are not drawn again for it.

The model is loaded through the runtime's ``AssetCache`` (the content registry's checks and
budgets). A model that does not load gets a placeholder picture (a grey tile with a magenta
cross, never written to the cache, so the next session tries again) and one warning naming it.

The cache folder is ``$STORM_THUMBNAIL_CACHE`` when set, else ``$XDG_CACHE_HOME/storm/thumbnails``
(``~/.cache/storm/thumbnails``). It is bounded: past ``max_files`` or ``max_bytes`` the least
recently used pictures are deleted. Pictures are written atomically (temporary file, rename).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from panda3d.core import (
    AmbientLight,
    DirectionalLight,
    Filename,
    FrameBufferProperties,
    GraphicsOutput,
    GraphicsPipe,
    NodePath,
    PerspectiveLens,
    PNMImage,
    Point3,
    Texture,
    WindowProperties,
)
from panda3d.core import Camera as PandaCamera

if TYPE_CHECKING:
    from editor.viewport import ViewRenderer
    from engine.packs.assets import AssetCache

log = logging.getLogger("storm.editor")
THUMBNAIL_FORMAT = 1  # bump when the pictures change (lights, angle, size)
SIZE = 96
BACKGROUND = (0.16, 0.17, 0.2, 1.0)
MAX_FILES = 2000
MAX_BYTES = 64 * 1024 * 1024
MAX_EXTRA_FILES = 16  # buffers and images a .gltf names beside itself, hashed with it


def thumbnail_folder() -> Path:
    """Where thumbnails are kept (see the module docstring)."""
    explicit = os.environ.get("STORM_THUMBNAIL_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "storm" / "thumbnails"


def content_key(assets: "AssetCache", asset_id: str) -> str:
    """A hash of the model's bytes (and of the files a .gltf names beside it), the picture's size
    and format: the thumbnail's name in the cache. Raises DataError when the file cannot be read."""
    content = assets.content
    data = content.read(asset_id)
    digest = hashlib.sha256(f"storm-thumbnail {THUMBNAIL_FORMAT} {SIZE}\n".encode())
    digest.update(data)
    if asset_id.lower().endswith(".gltf"):
        pack, _, name = asset_id.partition(":")
        for uri in _external_uris(data)[:MAX_EXTRA_FILES]:
            sibling = f"{pack}:{(PurePosixPath(name).parent / uri).as_posix()}"
            if content.has(sibling):
                digest.update(content.read(sibling))
    return digest.hexdigest()


def _external_uris(data: bytes) -> list[str]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return []
    uris = []
    for group in ("buffers", "images"):
        for item in doc.get(group, []) if isinstance(doc, dict) else []:
            uri = item.get("uri") if isinstance(item, dict) else None
            if isinstance(uri, str) and not uri.startswith("data:") and ".." not in uri and "://" not in uri:
                uris.append(uri)
    return uris


def placeholder_picture(size: int = SIZE) -> PNMImage:
    """The picture of a model that does not load: a grey tile with a magenta cross."""
    image = PNMImage(size, size, 3)
    image.fill(0.3, 0.3, 0.32)
    for i in range(size):
        for d in (-2, -1, 0, 1, 2):
            for x in (i + d, size - 1 - i + d):
                if 0 <= x < size:
                    image.setXel(x, i, 1.0, 0.0, 1.0)
    return image


class ThumbnailRenderer:
    """Draws one model at a time into a small offscreen buffer of the view's Panda3D engine."""

    def __init__(self, renderer: "ViewRenderer", size: int = SIZE) -> None:
        self.renderer = renderer
        self.size = size
        base = renderer.app.base
        props = FrameBufferProperties()
        props.setRgbaBits(8, 8, 8, 8)
        props.setDepthBits(24)
        renderer.contexts.to_panda()
        try:
            self.buffer = base.graphicsEngine.makeOutput(
                base.pipe, "editor-thumbnails", -20, props, WindowProperties.size(size, size),
                GraphicsPipe.BFRefuseWindow, base.win.getGsg(), base.win)
            if self.buffer is None:
                raise RuntimeError("Panda3D gave no offscreen buffer for thumbnails")
            self.texture = Texture("editor-thumbnail")
            self.buffer.addRenderTexture(self.texture, GraphicsOutput.RTMCopyRam, GraphicsOutput.RTPColor)
            self.buffer.setClearColorActive(True)
            self.buffer.setClearColor(BACKGROUND)
            self.buffer.setActive(False)
        finally:
            renderer.contexts.to_ui()
        self.scene = NodePath("editor-thumbnail-scene")
        self.scene.setShaderOff(1000)
        key = self.scene.attachNewNode(DirectionalLight("thumbnail-key"))
        key.node().setColor((0.9, 0.88, 0.82, 1))
        key.setHpr(35, -40, 0)
        fill = self.scene.attachNewNode(AmbientLight("thumbnail-fill"))
        fill.node().setColor((0.38, 0.38, 0.42, 1))
        self.scene.setLight(key)
        self.scene.setLight(fill)
        lens = PerspectiveLens()
        lens.setFov(35)
        lens.setNearFar(0.01, 10000)
        camera = PandaCamera("editor-thumbnail-camera")
        camera.setLens(lens)
        self.camera = self.scene.attachNewNode(camera)
        self.buffer.makeDisplayRegion().setCamera(self.camera)
        self.holder = self.scene.attachNewNode("model")

    def draw(self, model: NodePath) -> PNMImage | None:
        """The picture of ``model`` (framed by its bounds), or None when it has no size to show."""
        self.holder.getChildren().detach()
        copy = model.copyTo(self.holder)
        bounds = copy.getTightBounds(self.scene)
        if bounds is None:
            copy.removeNode()
            return None
        low, high = bounds
        centre = (low + high) * 0.5
        radius = max((high - low).length() * 0.5, 1e-3)
        distance = radius / 0.29  # sin(17.5 deg), half the field of view, with a little room
        self.camera.setPos(centre + Point3(0.62, -0.72, 0.48) * distance)
        self.camera.lookAt(centre)
        engine = self.renderer.app.base.graphicsEngine
        self.renderer.contexts.to_panda()
        try:
            others = [engine.getWindow(i) for i in range(engine.getNumWindows())]
            states = [(output, output.isActive()) for output in others if output != self.buffer]
            for output, _active in states:
                output.setActive(False)
            self.buffer.setActive(True)
            engine.renderFrame()
            engine.renderFrame()  # the first frame of a new buffer may come back empty on some drivers
            self.buffer.setActive(False)
            for output, active in states:
                output.setActive(active)
        finally:
            self.renderer.contexts.to_ui()
            copy.removeNode()
        if not self.texture.hasRamImage():
            return None
        picture = PNMImage()
        self.texture.store(picture)
        return picture

    def close(self) -> None:
        self.renderer.contexts.to_panda()
        try:
            self.buffer.clearRenderTextures()
            self.renderer.app.base.graphicsEngine.removeWindow(self.buffer)
        finally:
            self.renderer.contexts.to_ui()


class ThumbnailCache:
    """Thumbnail PNGs on disk for model asset ids: ``path_for`` draws one when it is not cached."""

    def __init__(self, assets: "AssetCache", renderer: "ViewRenderer | None", folder: Path | None = None,
                 max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES) -> None:
        self.assets = assets
        self.folder = folder or thumbnail_folder()
        self.max_files = max_files
        self.max_bytes = max_bytes
        self._view = renderer
        self._renderer: ThumbnailRenderer | None = None
        self.drawn = 0   # pictures drawn this session (a cache hit draws nothing)
        self.hits = 0
        self.failed: dict[str, str] = {}  # asset id -> why it got the placeholder
        self._placeholder: Path | None = None
        self._sizes: dict[Path, int] | None = None

    def path_for(self, asset_id: str) -> Path:
        """The thumbnail PNG of a model: from the cache, else drawn now; the placeholder picture
        (and a warning) when it does not load."""
        try:
            key = content_key(self.assets, asset_id)
        except Exception as exc:  # noqa: BLE001 - DataError or OSError: any unreadable file gets the placeholder
            return self._broken(asset_id, str(exc))
        path = self.folder / key[:2] / f"{key}.png"
        if path.is_file():
            self.hits += 1
            try:
                os.utime(path)  # recently used: kept longest
            except OSError:
                pass
            return path
        if self._view is None:
            return self._broken(asset_id, "no renderer to draw thumbnails with")
        model = self.assets.model(asset_id, owner="the asset browser")
        if self.assets.failed(asset_id):
            model.removeNode()
            return self._broken(asset_id, self.assets.error_for(asset_id) or "it did not load")
        if self._renderer is None:
            self._renderer = ThumbnailRenderer(self._view)
        picture = self._renderer.draw(model)
        model.removeNode()
        if picture is None:
            return self._broken(asset_id, "it has no geometry to show")
        self.drawn += 1
        return self._store(path, picture) or self._broken(asset_id, f"could not write {path}")

    def _broken(self, asset_id: str, reason: str) -> Path:
        if asset_id not in self.failed:
            log.warning("thumbnail of %s: %s; showing a placeholder", asset_id, reason)
            self.failed[asset_id] = reason
        if self._placeholder is None or not self._placeholder.is_file():
            folder = self.folder / "placeholder"
            self._placeholder = self._store(folder / f"placeholder-{THUMBNAIL_FORMAT}-{SIZE}.png",
                                            placeholder_picture(), counted=False)
        if self._placeholder is None:
            raise OSError(f"cannot write thumbnails into {self.folder}")
        return self._placeholder

    def _store(self, path: Path, picture: PNMImage, counted: bool = True) -> Path | None:
        temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")  # the suffix names the format
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not picture.write(Filename.fromOsSpecific(str(temporary))):
                return None
            os.replace(temporary, path)
        except OSError as exc:
            log.warning("could not write the thumbnail %s: %s", path, exc)
            temporary.unlink(missing_ok=True)
            return None
        if counted:
            self._account(path)
        return path

    def _account(self, path: Path) -> None:
        """Keep the cache within its bounds: the least recently used pictures go first."""
        if self._sizes is None:
            self._sizes = {}
            for found in self.folder.glob("??/*.png"):
                try:
                    self._sizes[found] = found.stat().st_size
                except OSError:
                    continue
        try:
            self._sizes[path] = path.stat().st_size
        except OSError:
            return
        if len(self._sizes) <= self.max_files and sum(self._sizes.values()) <= self.max_bytes:
            return
        def used(item: Path) -> float:
            try:
                return item.stat().st_mtime
            except OSError:
                return 0.0
        oldest = sorted((p for p in self._sizes if p != path), key=used)
        total = sum(self._sizes.values())
        for victim in oldest:
            if len(self._sizes) <= self.max_files and total <= self.max_bytes:
                break
            total -= self._sizes.pop(victim)
            victim.unlink(missing_ok=True)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
