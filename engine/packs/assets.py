"""Asset loading: models by asset id, each loaded once and shared; a missing one becomes a
visible placeholder and a logged error, never a crash. Model files are read through the content
registry and reach Panda3D as bytes (``gltf_files``)."""
from __future__ import annotations

import logging
import threading
from collections import Counter

from panda3d.core import NodePath

from engine.core.errors import DataError
from engine.packs.content import ContentRegistry, parse_asset_id
from engine.packs.gltf_files import MODEL_SUFFIXES, ModelError, gltf_settings, load_gltf
from engine.packs.model_cache import ModelCache, cache_folder
from engine.packs.primitives import PRIMITIVES, make_primitive

log = logging.getLogger("storm.assets")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tga", ".bmp", ".tif", ".tiff")
PLACEHOLDER_COLOR = (1.0, 0.0, 1.0, 1.0)


class AssetCache:
    """Loads each asset id once; ``model`` hands out copies that share the loaded geometry."""

    def __init__(self, content: ContentRegistry) -> None:
        self.content = content
        self.load_count: Counter[str] = Counter()
        self.errors: list[str] = []
        self.import_cache = ModelCache(cache_folder(), settings=repr(gltf_settings()))
        self._models: dict[str, NodePath] = {}
        self._failed: set[str] = set()
        self._lock = threading.Lock()

    def problem(self, asset_id: str, kind: str = "model") -> str | None:
        """Why an asset id of ``kind`` (model, sound, image) cannot load (None when it can): bad id,
        unknown pack, missing file, wrong format."""
        if kind == "sound":
            from engine.packs.sound_files import sound_problem

            return sound_problem(self.content, asset_id)
        try:
            pack, path = parse_asset_id(asset_id)
        except ValueError as exc:
            return str(exc)
        if pack == "primitive":
            return None if path in PRIMITIVES else f"no primitive {path!r} (primitives: {', '.join(PRIMITIVES)})"
        if not self.content.has_pack(pack):
            return f"no enabled pack named {pack!r} (asset {asset_id!r})"
        if not self.content.has(asset_id):
            return f"pack {pack!r} has no file {path!r}"
        suffixes = IMAGE_SUFFIXES if kind == "image" else MODEL_SUFFIXES
        if not path.lower().endswith(suffixes):
            return f"{path!r} is not {'an image' if kind == 'image' else 'a model'} file ({', '.join(suffixes)})"
        return None

    def model(self, asset_id: str, owner: str = "", parent: NodePath | None = None) -> NodePath:
        """A new NodePath showing the model (under ``parent`` when given); a magenta placeholder
        box if it cannot load."""
        with self._lock:
            proto = self._models.get(asset_id)
            if proto is None:
                proto = self._load(asset_id, owner)
            elif asset_id in self._failed:
                log.error("asset %r (used by %s) is missing; showing a placeholder", asset_id, owner or "?")
        return proto.copyTo(parent if parent is not None else NodePath())

    def _load(self, asset_id: str, owner: str) -> NodePath:
        reason = self.problem(asset_id)
        node: NodePath | None = None
        if reason is None:
            pack, path = parse_asset_id(asset_id)
            if pack == "primitive":
                node = make_primitive(path)
            else:
                try:
                    node = self.import_cache.load(self.content, asset_id, lambda: load_gltf(self.content, asset_id))
                except (ModelError, DataError) as exc:
                    reason = str(exc)
        if node is None:
            where = f" (used by {owner})" if owner else ""
            message = f"asset {asset_id!r}{where}: {reason}; showing a placeholder"
            log.error(message)
            self.errors.append(message)
            self._failed.add(asset_id)
            node = make_primitive("box")
            node.setColor(*PLACEHOLDER_COLOR)
            node.setName(f"missing:{asset_id}")
        else:
            self.load_count[asset_id] += 1
        self._models[asset_id] = node
        return node

    def failed(self, asset_id: str) -> bool:
        return asset_id in self._failed
