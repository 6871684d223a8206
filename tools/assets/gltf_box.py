"""Writes a glTF 2.0 box (one mesh, one PBR material, buffer embedded as base64).

Used to make ``content/base/models/crate.gltf`` and, in tests, throwaway glTF files:

    python -m tools.assets.gltf_box content/base/models/crate.gltf --color 0.55 0.35 0.15
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from engine.packs.primitives import mesh_arrays  # noqa: E402


def box_gltf(color: tuple[float, float, float] = (0.55, 0.35, 0.15), size: float = 1.0) -> dict:
    """A glTF document (Y-up, as glTF requires) holding a box of edge ``size``."""
    pos, nrm, _uv, tri = mesh_arrays("box")
    # glTF is Y-up; Storm/Panda3D is Z-up. panda3d-gltf converts, so write Y-up data.
    pos = (pos[:, [0, 2, 1]] * np.array([1, 1, -1]) * size).astype(np.float32)
    nrm = (nrm[:, [0, 2, 1]] * np.array([1, 1, -1])).astype(np.float32)
    idx = tri.astype(np.uint16)  # (x, y, z) -> (x, z, -y) is a rotation: winding is kept
    blob = idx.tobytes() + pos.tobytes() + nrm.tobytes()
    n_idx, n_v = idx.size, len(pos)
    return {
        "asset": {"version": "2.0", "generator": "storm tools.assets.gltf_box"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "crate"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 1, "NORMAL": 2}, "indices": 0, "material": 0}]}],
        "materials": [{"name": "crate", "pbrMetallicRoughness": {
            "baseColorFactor": [*color, 1.0], "metallicFactor": 0.0, "roughnessFactor": 0.8}}],
        "buffers": [{"byteLength": len(blob),
                     "uri": "data:application/octet-stream;base64," + base64.b64encode(blob).decode()}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": n_idx * 2, "target": 34963},
            {"buffer": 0, "byteOffset": n_idx * 2, "byteLength": n_v * 12, "target": 34962},
            {"buffer": 0, "byteOffset": n_idx * 2 + n_v * 12, "byteLength": n_v * 12, "target": 34962},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5123, "count": n_idx, "type": "SCALAR"},
            {"bufferView": 1, "componentType": 5126, "count": n_v, "type": "VEC3",
             "min": pos.min(axis=0).tolist(), "max": pos.max(axis=0).tolist()},
            {"bufferView": 2, "componentType": 5126, "count": n_v, "type": "VEC3"},
        ],
    }


def write_box(path: Path | str, color: tuple[float, float, float] = (0.55, 0.35, 0.15), size: float = 1.0) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(box_gltf(color, size), indent=1) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the .gltf file to write")
    parser.add_argument("--color", nargs=3, type=float, default=(0.55, 0.35, 0.15), metavar=("R", "G", "B"))
    parser.add_argument("--size", type=float, default=1.0, help="edge length in metres")
    args = parser.parse_args()
    print(write_box(args.out, tuple(args.color), args.size))


if __name__ == "__main__":
    main()
