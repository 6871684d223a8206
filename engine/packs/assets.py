"""Asset loading: models by asset id, each loaded once and shared; one that cannot load becomes a
visible placeholder and one logged error saying what failed, never a crash. Model files are read
through the content registry and reach Panda3D as bytes (``gltf_files``); what a model loaded
without (a texture whose image is missing) is a logged warning, kept in ``warnings_for``.

A feature may add a model source (``add_source``): a pack name whose models it builds in code
from the asset id's path, as ``primitive:`` models are built (a visited OpenSimulator region's
prims are ``opensim_prim:<shape>``). Such models are drawn with the primitives' material, and
``forget`` lets a source that bounds its memory drop a model it built (copies already handed out
keep their geometry).

The placeholder is a magenta box of ``PLACEHOLDER_SIZE`` metres whatever the entity's scale (a
CompassEffect keeps its scale that of the scene root), so a model meant to be scaled by 0.001
from centimetres does not fail into something too small to see."""
from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Protocol

from panda3d.core import CompassEffect, Material, NodePath

from engine.core.errors import DataError
from engine.packs.asset_kinds import AssetKinds
from engine.packs.content import ContentRegistry, parse_asset_id
from engine.packs.gltf_files import ModelError, gltf_settings, load_gltf, model_warnings
from engine.packs.model_cache import ModelCache, cache_folder
from engine.packs.primitives import PRIMITIVES, make_primitive

log = logging.getLogger("storm.assets")

PLACEHOLDER_COLOR = (1.0, 0.0, 1.0, 1.0)
PLACEHOLDER_SIZE = 1.0  # edge of the placeholder box in metres, in the world (not the entity's) scale


def placeholder(asset_id: str) -> NodePath:
    """The magenta box shown for a model that cannot load: the same size in the world whatever
    the scale of the entity it is under, and lit by its own colour (seen in the dark too)."""
    node = make_primitive("box")
    node.setScale(PLACEHOLDER_SIZE)
    node.setColor(*PLACEHOLDER_COLOR)
    material = Material("placeholder")
    material.setBaseColor(PLACEHOLDER_COLOR)
    material.setEmission(PLACEHOLDER_COLOR)
    node.setMaterial(material, 1)
    node.setEffect(CompassEffect.make(NodePath(), CompassEffect.P_scale))
    node.setName(f"missing:{asset_id}")
    return node


class ModelSource(Protocol):
    """Models of one pack built in code: ``problem`` says why a path names no model (None: it
    does), ``build`` makes the model of a path ``problem`` accepted (raising ModelError if it
    cannot)."""

    def problem(self, path: str) -> str | None: ...

    def build(self, path: str) -> NodePath: ...


class AssetCache:
    """Loads each asset id once; ``model`` hands out copies that share the loaded geometry."""

    def __init__(self, content: ContentRegistry) -> None:
        self.content = content
        self.kinds = AssetKinds()
        self.load_count: Counter[str] = Counter()
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self._warnings: dict[str, list[str]] = {}
        self.import_cache = ModelCache(cache_folder(), settings=repr(gltf_settings()))
        self._models: dict[str, NodePath] = {}
        self._failed: dict[str, str] = {}  # asset id -> the message saying why it did not load
        self._sources: dict[str, ModelSource] = {}
        self._lock = threading.RLock()  # a model source may forget models while it builds one

    def add_source(self, pack: str, source: ModelSource) -> None:
        """Models of ``pack`` are built by ``source`` (see ModelSource); raises ValueError when the
        name is taken by a pack, the primitives or another source."""
        if pack in self._sources or pack == "primitive" or self.content.has_pack(pack):
            raise ValueError(f"model source {pack!r}: the name is already used")
        self._sources[pack] = source

    def source(self, pack: str) -> ModelSource | None:
        return self._sources.get(pack)

    def built_in_code(self, asset_id: str) -> bool:
        """Whether a model is a primitive or comes from a model source (drawn with one material)."""
        pack = asset_id.split(":", 1)[0]
        return pack == "primitive" or pack in self._sources

    def forget(self, asset_id: str) -> None:
        """Drop a loaded model: the next ``model`` call loads (or builds) it again."""
        with self._lock:
            self._models.pop(asset_id, None)
            self._failed.pop(asset_id, None)

    def problem(self, asset_id: str, kind: str = "model") -> str | None:
        """Why an asset id of ``kind`` (an ``engine.packs.asset_kinds`` name: model, sound, image,
        persona...) cannot load (None when it can): bad id, unknown pack, missing file, wrong file
        ending, then the kind's own check of the file."""
        declared = self.kinds.get(kind)
        if declared.resolves and declared.check is not None:
            return declared.check(self.content, asset_id)
        try:
            pack, path = parse_asset_id(asset_id)
        except ValueError as exc:
            return str(exc)
        if pack == "primitive":
            if not declared.primitives:
                return f"{asset_id!r} is a built-in primitive, not {declared.what} file"
            return None if path in PRIMITIVES else f"no primitive {path!r} (primitives: {', '.join(PRIMITIVES)})"
        source = self._sources.get(pack)
        if source is not None:
            if not declared.primitives:
                return f"{asset_id!r} is built in code, not {declared.what} file"
            return source.problem(path)
        if not self.content.has_pack(pack):
            return f"no enabled pack named {pack!r} (asset {asset_id!r})"
        if not self.content.has(asset_id):
            return f"pack {pack!r} has no file {path!r}"
        problem = declared.suffix_problem(path)
        if problem is None and declared.check is not None:
            problem = declared.check(self.content, asset_id)
        return problem

    def model(self, asset_id: str, owner: str = "", parent: NodePath | None = None) -> NodePath:
        """A new NodePath showing the model (under ``parent`` when given); a magenta placeholder
        box if it cannot load."""
        with self._lock:
            proto = self._models.get(asset_id)
            if proto is None:
                proto = self._load(asset_id, owner)
            elif asset_id in self._failed:
                log.error("asset %r (used by %s) did not load (%s); showing a placeholder", asset_id, owner or "?",
                          self._failed[asset_id])
        return proto.copyTo(parent if parent is not None else NodePath())

    def _load(self, asset_id: str, owner: str) -> NodePath:
        reason = self.problem(asset_id)
        node: NodePath | None = None
        if reason is None:
            pack, path = parse_asset_id(asset_id)
            source = self._sources.get(pack)
            if pack == "primitive":
                node = make_primitive(path)
            elif source is not None:
                try:
                    node = source.build(path)
                except ModelError as exc:
                    reason = str(exc)
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
            self._failed[asset_id] = reason or "?"
            node = placeholder(asset_id)
        else:
            self.load_count[asset_id] += 1
            notes = self._warnings[asset_id] = [f"asset {asset_id!r}: {note}" for note in model_warnings(node)]
            for note in notes:
                log.warning(note)
            self.warnings += notes
        self._models[asset_id] = node
        return node

    def failed(self, asset_id: str) -> bool:
        return asset_id in self._failed

    def error_for(self, asset_id: str) -> str | None:
        """The one message saying why a model did not load (None when it loaded or was not asked for)."""
        reason = self._failed.get(asset_id)
        return None if reason is None else f"asset {asset_id!r}: {reason}"

    def warnings_for(self, asset_id: str) -> list[str]:
        """What a loaded model was loaded without (a texture whose image is missing or bad)."""
        return list(self._warnings.get(asset_id, ()))
