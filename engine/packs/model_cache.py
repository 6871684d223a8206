"""The import cache: a model converted once (glTF through panda3d-gltf's converter) is kept as
Panda3D's own ``.bam`` and loaded from there afterwards, keyed by content, not by name or date.

Layout, under ``<storm home>/cache/models`` (``$STORM_MODEL_CACHE`` replaces the folder; ``off``
turns the cache off)::

    <key>.json   what the model was made of: every pack file the conversion read, with its sha256
    <key>.bam    the converted model

``key`` is the sha256 of the model file's bytes together with the versions of Panda3D, of
panda3d-gltf and of this cache, and the converter's settings. A hit needs every file listed in
the ``.json`` to have the same hash now (a ``.bin`` or texture beside a ``.gltf`` counts as much
as the model), so an edited texture is converted again even though the ``.gltf`` did not change.
Both files are written to a temporary name and renamed, so a crash never leaves half an entry;
an entry that does not read back (damaged, from another version) is converted again and
replaced. The folder is trimmed to ``MAX_CACHE_BYTES``, least recently used first.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from panda3d.core import NodePath

from engine.packs.locations import storm_home

if TYPE_CHECKING:
    from engine.packs.content import ContentRegistry

log = logging.getLogger("storm.assets")

CACHE_FORMAT = 2  # 2: models converted with the keyframe and unlit fixes of engine/render/gltf_fixes.py
MAX_CACHE_BYTES = 2 * 1024**3
MAX_INDEX_BYTES = 1024 * 1024


def cache_folder() -> Path | None:
    """Where converted models are kept, or None when the cache is off."""
    explicit = os.environ.get("STORM_MODEL_CACHE")
    if explicit and explicit.lower() in ("off", "0", "no", "false"):
        return None
    return Path(explicit) if explicit else storm_home() / "cache" / "models"


def _versions() -> str:
    parts = [f"storm-model-cache {CACHE_FORMAT}"]
    for package in ("panda3d", "panda3d-gltf"):
        try:
            parts.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{package} ?")
    return "\n".join(parts)


class ModelCache:
    """Converted models on disk; ``load`` answers from there or converts and stores."""

    def __init__(self, folder: Path | None, settings: str = "") -> None:
        self.folder = folder
        self.salt = (_versions() + "\n" + settings).encode()
        self.hits = 0
        self.misses = 0

    def load(self, content: "ContentRegistry", asset_id: str, convert: Callable[[], NodePath]) -> NodePath:
        """The model of ``asset_id``: from the cache when every file it was made of is unchanged,
        else ``convert()`` (whose errors pass through; failures are never cached)."""
        hit = content.files.find(asset_id) if self.folder is not None else None
        if hit is None:
            return convert()
        pack, name = hit
        data = content.files.read_in_pack(pack, name)
        key = hashlib.sha256(self.salt + b"\0" + data).hexdigest()
        cached = self._read(content, key)
        if cached is not None:
            self.hits += 1
            return cached
        with content.files.recording() as reads:
            node = convert()
        self.misses += 1
        self._write(key, reads, node)
        return node

    def _read(self, content: "ContentRegistry", key: str) -> NodePath | None:
        assert self.folder is not None
        index_path, bam_path = self.folder / f"{key}.json", self.folder / f"{key}.bam"
        try:
            if index_path.stat().st_size > MAX_INDEX_BYTES:
                return None
            index = json.loads(index_path.read_text(encoding="utf-8"))
            made_of = index.get("files") if isinstance(index, dict) else None
            if not isinstance(made_of, dict) or index.get("format") != CACHE_FORMAT:
                return None
            for asset_id, digest in made_of.items():
                if not isinstance(asset_id, str) or not isinstance(digest, str) or not _same(content, asset_id, digest):
                    return None
            blob = bam_path.read_bytes()
        except (OSError, ValueError):
            return None
        # Checked before Panda3D sees it: a damaged .bam could trip its asserts or worse.
        node = NodePath()
        if hashlib.sha256(blob).hexdigest() == index.get("bam_sha256"):
            try:
                node = NodePath.decodeFromBamStream(blob)
            except AssertionError:
                node = NodePath()
        if node.isEmpty():
            log.warning("import cache: %s did not read back; converting the model again", bam_path)
            return None
        now = time.time()
        try:
            os.utime(bam_path, (now, now))
        except OSError:
            pass
        return node

    def _write(self, key: str, reads: dict[str, str], node: NodePath) -> None:
        assert self.folder is not None
        blob = node.encodeToBamStream()
        if not blob:
            return
        blob = bytes(blob)
        index = json.dumps({"format": CACHE_FORMAT, "bam_sha256": hashlib.sha256(blob).hexdigest(),
                            "files": dict(sorted(reads.items()))}, indent=1)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(self.folder / f"{key}.bam", blob)
            _write_atomic(self.folder / f"{key}.json", index.encode())
            self._trim()
        except OSError as exc:
            log.warning("import cache: could not write to %s (%s); the model still loads", self.folder, exc)

    def _trim(self) -> None:
        assert self.folder is not None
        entries = []
        for path in self.folder.glob("*.bam"):
            try:
                entries.append((path.stat().st_atime, path.stat().st_size, path))
            except OSError:
                continue
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= MAX_CACHE_BYTES:
                break
            for stale in (path, path.with_suffix(".json")):
                stale.unlink(missing_ok=True)
            total -= size


def _same(content: "ContentRegistry", asset_id: str, digest: str) -> bool:
    """Whether the pack file named ``pack:name`` still has this sha256."""
    pack_name, _, name = asset_id.partition(":")
    pack = content.files.pack(pack_name)
    if pack is None or not content.files.has_in_pack(pack, name):
        return False
    try:
        return hashlib.sha256(content.files.read_in_pack(pack, name)).hexdigest() == digest
    except Exception:  # noqa: BLE001 - any refusal means: not the same file, convert again
        return False


def _write_atomic(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def measure_model_cache(rounds: int = 5) -> dict[str, Any]:
    """Model load cold (converted) against from the import cache, for tools/bench/loading.py."""
    from engine.packs.content import default_content
    from engine.packs.gltf_files import load_gltf

    content = default_content()
    asset_id = "base:models/character.gltf"
    with tempfile.TemporaryDirectory() as folder:
        cache = ModelCache(Path(folder))
        cold, warm = [], []
        for _ in range(rounds):
            for stale in Path(folder).iterdir():
                stale.unlink()
            start = time.perf_counter()
            cache.load(content, asset_id, lambda: load_gltf(content, asset_id))
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            cache.load(content, asset_id, lambda: load_gltf(content, asset_id))
            warm.append(time.perf_counter() - start)
    cold_ms, warm_ms = min(cold) * 1000, min(warm) * 1000
    return {"model_cold_ms": round(cold_ms, 2), "model_cached_ms": round(warm_ms, 2),
            "model_cached_speedup": round(cold_ms / warm_ms, 1), "model_cache_asset": asset_id}
