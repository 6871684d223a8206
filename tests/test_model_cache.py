"""The import cache: a converted model is kept as .bam keyed by content and loaded from there next
time; an edited companion file (a texture beside the .gltf) converts again; a damaged entry is
replaced; failures are never cached."""
from __future__ import annotations

import base64
import io
import json
import struct
from pathlib import Path

import pytest
from panda3d.core import NodePath, Texture
from PIL import Image

from engine.packs.assets import AssetCache
from engine.packs.content import default_content
from tests.conftest import TmpPack

ASSET = "testpack:models/quad.gltf"


def _png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(out, format="PNG")
    return out.getvalue()


def write_textured_quad(pack: TmpPack, color: tuple[int, int, int]) -> None:
    """A one-quad .gltf with its .bin and an external .png texture of one colour."""
    positions = struct.pack("<12f", 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0)
    uvs = struct.pack("<8f", 0, 0, 1, 0, 1, 1, 0, 1)
    indices = struct.pack("<6H", 0, 1, 2, 0, 2, 3)
    blob = positions + uvs + indices
    gltf = {
        "asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 1}, "indices": 2, "material": 0}]}],
        "materials": [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}],
        "textures": [{"source": 0}], "images": [{"uri": "quad.png"}],
        "buffers": [{"uri": "quad.bin", "byteLength": len(blob)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": 48}, {"buffer": 0, "byteOffset": 48, "byteLength": 32},
                        {"buffer": 0, "byteOffset": 80, "byteLength": 12}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 0]},
            {"bufferView": 1, "componentType": 5126, "count": 4, "type": "VEC2"},
            {"bufferView": 2, "componentType": 5123, "count": 6, "type": "SCALAR"},
        ],
    }
    folder = pack.root / "models"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "quad.gltf").write_text(json.dumps(gltf), encoding="utf-8")
    (folder / "quad.bin").write_bytes(blob)
    (folder / "quad.png").write_bytes(_png(color))


def texture_color(node: NodePath) -> tuple[int, int, int]:
    """The colour (0-255) of the model's one texture, read from its pixels."""
    textures = node.findAllTextures()
    assert textures.getNumTextures() == 1, "the model lost its texture"
    texture: Texture = textures.getTexture(0)
    pixels = bytes(texture.getRamImageAs("RGB"))
    assert len(pixels) == 4 * 4 * 3
    return tuple(pixels[15:18])  # type: ignore[return-value]


def load(pack: TmpPack) -> tuple[AssetCache, NodePath]:
    """The model through a fresh AssetCache (as a new run of the game would load it)."""
    content = default_content()
    content.add_pack(pack.root)
    assets = AssetCache(content)
    node = assets.model(ASSET)
    assert not assets.failed(ASSET), assets.errors
    return assets, node


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "model-cache"
    monkeypatch.setenv("STORM_MODEL_CACHE", str(folder))
    return folder


def test_second_load_comes_from_the_cache_and_matches(tmp_pack: TmpPack, cache_dir: Path) -> None:
    write_textured_quad(tmp_pack, (200, 30, 10))
    first, cold = load(tmp_pack)
    assert (first.import_cache.misses, first.import_cache.hits) == (1, 0)
    assert len(list(cache_dir.glob("*.bam"))) == 1
    index = json.loads(next(cache_dir.glob("*.json")).read_text())
    assert set(index["files"]) == {"testpack:models/quad.gltf", "testpack:models/quad.bin", "testpack:models/quad.png"}
    second, warm = load(tmp_pack)
    assert (second.import_cache.misses, second.import_cache.hits) == (0, 1)
    assert texture_color(warm) == texture_color(cold) == (200, 30, 10)
    assert warm.getTightBounds() == cold.getTightBounds()


def test_an_edited_texture_converts_again(tmp_pack: TmpPack, cache_dir: Path) -> None:
    write_textured_quad(tmp_pack, (200, 30, 10))
    load(tmp_pack)
    (tmp_pack.root / "models" / "quad.png").write_bytes(_png((10, 40, 220)))
    again, node = load(tmp_pack)
    assert again.import_cache.misses == 1 and again.import_cache.hits == 0
    assert texture_color(node) == (10, 40, 220)


def test_a_damaged_entry_is_converted_again_and_replaced(tmp_pack: TmpPack, cache_dir: Path) -> None:
    write_textured_quad(tmp_pack, (0, 200, 0))
    load(tmp_pack)
    bam = next(cache_dir.glob("*.bam"))
    bam.write_bytes(bam.read_bytes()[:40])
    again, node = load(tmp_pack)
    assert again.import_cache.misses == 1 and texture_color(node) == (0, 200, 0)
    assert len(bam.read_bytes()) > 40
    third, _ = load(tmp_pack)
    assert third.import_cache.hits == 1


def test_failures_are_not_cached_and_off_means_off(tmp_pack: TmpPack, cache_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_pack.write("models/broken.gltf", '{"asset": {"version": "2.0"}, "buffers": [{"uri": "gone.bin", "byteLength": 4}]}')
    content = default_content()
    content.add_pack(tmp_pack.root)
    assets = AssetCache(content)
    assets.model("testpack:models/broken.gltf")
    assert assets.failed("testpack:models/broken.gltf")
    assert not cache_dir.exists() or not list(cache_dir.iterdir())
    monkeypatch.setenv("STORM_MODEL_CACHE", "off")
    write_textured_quad(tmp_pack, (9, 9, 9))
    load(tmp_pack)
    assert not cache_dir.exists() or not list(cache_dir.iterdir())


def test_embedded_texture_survives_the_cache(tmp_pack: TmpPack, cache_dir: Path) -> None:
    write_textured_quad(tmp_pack, (0, 0, 0))
    path = tmp_pack.root / "models" / "quad.gltf"
    gltf = json.loads(path.read_text())
    gltf["images"] = [{"uri": "data:image/png;base64," + base64.b64encode(_png((120, 60, 250))).decode()}]
    path.write_text(json.dumps(gltf))
    load(tmp_pack)
    again, node = load(tmp_pack)
    assert again.import_cache.hits == 1 and texture_color(node) == (120, 60, 250)
