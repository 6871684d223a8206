"""Child process of tests/test_gltf_fuzz.py: thousands of seeded mutations of valid .glb and .gltf
files (byte flips, cuts, JSON fields set to odd values, removed or duplicated) loaded one after
another. Each loaded model has its bounds computed (Panda3D reads every vertex an index names), is
drawn into a small offscreen buffer (where OpenGL is to be had) and now and then is written to a
.bam, as the import cache does.

Prints one JSON line of outcome counts. A message that is not one line, or anything but a model,
a ModelError or a DataError, is printed with the case and its traceback and ends the run with
exit code 1. Before each case its number is written to the progress file, so a crash (a signal,
not an exception) still names the case; ``python -m tests.gltf_fuzz_child 1 SEED --first N``
replays case N alone (each case has its own random generator).
"""
from __future__ import annotations

import argparse
import base64
import copy
import faulthandler
import json
import math
import os
import random
import signal
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from engine.core.errors import DataError
from engine.packs.content import ContentRegistry
from engine.packs.gltf_files import ModelError, load_gltf
from tests.pack_files import folder_pack, png
from tests.test_gltf_safety import GltfBuilder, animated_quad, draco_quad, quad

CASE_SECONDS = 10  # one case that takes longer is a hang
ODD_VALUES: list[Any] = [0, 1, -1, 2, 3, 4, 5, 7, 12, 255, 256, 65535, 65536, 2**31 - 1, 2**31, 2**32, 2**53, 2**64,
                         -2**31, 10**30, 1e308, -1e-300, 0.5, float("1e38"), "", "x", "VEC3", "MAT4", "SCALAR",
                         "../x.bin", "data:,", None, True, False, [], {}, [0], [0, 0, 0], [1e30, 1e30, 1e30],
                         {"index": 0}, 5120, 5121, 5123, 5125, 5126, 5124, "\ud800", "a\nb"]


def interleaved() -> GltfBuilder:
    """A triangle whose positions, UVs and colours share one strided view, with a sparse lift."""
    model = GltfBuilder()
    rows = np.zeros(3, dtype=[("pos", "<f4", 3), ("uv", "<u2", 2), ("color", "u1", 4)])
    rows["pos"] = [[0, 0, 0], [1, 0, 0], [1, 1, 0]]
    rows["uv"], rows["color"] = [[0, 0], [65535, 0], [65535, 65535]], 200
    view = model.view(rows.tobytes(), byteStride=rows.itemsize)
    lift = model.view(np.array([2], "<u2").tobytes() + bytes(2) + np.array([[1, 2, 0]], "<f4").tobytes())
    model.doc["accessors"] = [
        {"bufferView": view, "componentType": 5126, "count": 3, "type": "VEC3",
         "sparse": {"count": 1, "indices": {"bufferView": lift, "componentType": 5123},
                    "values": {"bufferView": lift, "byteOffset": 4}}},
        {"bufferView": view, "byteOffset": 12, "componentType": 5123, "normalized": True, "count": 3, "type": "VEC2"},
        {"bufferView": view, "byteOffset": 16, "componentType": 5121, "normalized": True, "count": 3, "type": "VEC4"}]
    model.doc["meshes"] = [{"primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 1, "COLOR_0": 2}}]}]
    return model


def seeds() -> list[tuple[str, dict[str, Any], bytes]]:
    """(file suffix, document, the BIN chunk of a .glb): the valid models every case starts from.
    The skinned, animated character comes last: it is slow to convert, so it is picked less."""
    from tools.assets.gltf_character import character_gltf

    textured = quad(textured=True)
    external = quad()
    external.texture({"uri": "wood.png"})
    draco, _ = draco_quad()
    glbs = []
    for model in (textured, draco):
        doc = copy.deepcopy(model.doc)
        doc["buffers"] = [{"byteLength": len(model.blob)}]
        glbs.append((".glb", doc, bytes(model.blob)))
    return [*glbs, (".gltf", external.gltf("quad.bin"), b""), (".gltf", interleaved().gltf(), b""),
            (".gltf", animated_quad([0.0, 0.5, 1.0]).gltf(), b""), (".gltf", character_gltf(), b"")]


def places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value (keys and list indices), the value itself included."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += places(item, (*path, key))
    elif isinstance(value, list) and len(value) <= 64:
        for index, item in enumerate(value):
            found += places(item, (*path, index))
    return found


def mutate_json(doc: dict[str, Any], rng: random.Random) -> None:
    """One to three changes at random places: an odd value, a neighbour index, a removal, a copy."""
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(places(doc)[1:])
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        last, old = path[-1], parent[path[-1]]
        roll = rng.random()
        if roll < 0.45:
            parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))  # never share one list between places or cases
        elif roll < 0.7 and isinstance(old, int) and not isinstance(old, bool):
            parent[last] = old + rng.choice((-2, -1, 1, 2, 3, 100))
        elif roll < 0.85:
            del parent[last]
        elif isinstance(parent, list):
            parent.insert(rng.randrange(len(parent) + 1), copy.deepcopy(old))
        else:
            parent[last] = [old, copy.deepcopy(old)]


def glb_of(doc: dict[str, Any], blob: bytes) -> bytes:
    import struct

    text = json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")
    text += b" " * (-len(text) % 4)
    blob += bytes(-len(blob) % 4)
    body = struct.pack("<I4s", len(text), b"JSON") + text + struct.pack("<I4s", len(blob), b"BIN\0") + blob
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(out))
        out[at] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
    return bytes(out)


def make_case(case: int, seed: int, bases: list[tuple[str, dict[str, Any], bytes]],
              external_bin: bytes) -> tuple[str, str, bytes, dict[str, bytes]]:
    """(what was done, file suffix, the file's bytes, other files to write beside it) for one
    case, from its own generator."""
    rng = random.Random(seed * 1_000_003 + case)
    suffix, base, blob = bases[-1] if rng.random() < 0.04 else rng.choice(bases[:-1])
    doc = copy.deepcopy(base)

    def written() -> bytes:
        return glb_of(doc, blob) if suffix == ".glb" else json.dumps(doc, ensure_ascii=False).encode("utf-8",
                                                                                                 "surrogatepass")
    roll = rng.random()
    extra = {}
    if roll < 0.45:
        mutate_json(doc, rng)
        what, data = "json fields", written()
    elif roll < 0.75:
        what = "byte flips in the buffer"
        uri = doc["buffers"][0].get("uri", "")
        if suffix == ".glb":
            blob = flip_bytes(blob, rng)
        elif uri.startswith("data:"):
            payload = flip_bytes(base64.b64decode(uri.split(",", 1)[1]), rng)
            doc["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(payload).decode()
        else:
            doc["buffers"][0]["uri"] = f"case{case}.bin"
            extra[f"models/case{case}.bin"] = flip_bytes(external_bin, rng)
        data = written()
    elif roll < 0.85:
        what, data = "byte flips", flip_bytes(written(), rng)
    else:
        data = written()
        what, data = "truncated", data[:rng.randrange(len(data))]
    return f"case {case} (seed {seed}): {what} of a {suffix} model", suffix, data, extra


def offscreen() -> Any:
    """A 32x32 offscreen buffer that draws each model that loads (Panda3D's own shaders), or None
    where no OpenGL is to be had."""
    from panda3d.core import loadPrcFileData

    loadPrcFileData("gltf-fuzz", "window-type offscreen\nload-display p3headlessgl\nwin-size 32 32\n"
                                 "audio-library-name null\nsync-video false\nnotify-level-display error\n"
                                 "print-pipe-types false\nnotify-level-device fatal")
    from direct.showbase.ShowBase import ShowBase

    base = ShowBase()
    return base if base.win is not None else None


def draw(base: Any, node: Any) -> None:
    node.reparentTo(base.render)
    bounds = node.getBounds()
    if not bounds.isEmpty() and not bounds.isInfinite() and all(math.isfinite(v) for v in bounds.getCenter()):
        centre, radius = bounds.getCenter(), bounds.getRadius()
        base.camera.setPos(centre.x, centre.y - 3 * max(radius, 1e-3), centre.z)
        base.camera.lookAt(centre)
    base.graphicsEngine.renderFrame()
    node.detachNode()


def main(cases: int, seed: int, first: int, progress: Path | None) -> int:
    faulthandler.enable()
    bases = seeds()
    base = offscreen()
    outcomes = {"loaded": 0, "refused": 0, "bam": 0, "drawn": 0}
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError(f"a case over {CASE_SECONDS} s")))
    report = os.open(progress, os.O_WRONLY | os.O_CREAT | os.O_TRUNC) if progress else None
    with tempfile.TemporaryDirectory() as folder:
        external = bytes(quad().blob)
        root = folder_pack(Path(folder) / "fuzz", "fuzz", {"models/quad.bin": external, "models/wood.png": png(8, 8)})
        content = ContentRegistry()
        content.add_pack(root)
        for case in range(first, first + cases):
            what, suffix, data, extra = make_case(case, seed, bases, external)
            if report is not None:
                os.write(report, f"{what}\n".encode())
            name = f"models/case{case}{suffix}"
            path = root / name
            path.write_bytes(data)
            for other, other_data in extra.items():
                (root / other).write_bytes(other_data)
            signal.alarm(CASE_SECONDS)
            try:
                node = load_gltf(content, f"fuzz:{name}")
                node.getTightBounds()
                if base is not None:
                    draw(base, node)
                    outcomes["drawn"] += 1
                if outcomes["loaded"] % 10 == 0:
                    node.encodeToBamStream()
                    outcomes["bam"] += 1
                node.removeNode()
                outcomes["loaded"] += 1
            except (ModelError, DataError) as exc:
                message = str(exc)
                if "\n" in message or not message or "Traceback" in message:
                    print(f"{what}: a message of more than one line:\n{message[:2000]}")
                    return 1
                outcomes["refused"] += 1
            except Exception:  # noqa: BLE001 - the point: report what escaped
                print(f"{what}: {type(sys.exc_info()[1]).__name__} escaped the loader "
                      f"(replay: python -m tests.gltf_fuzz_child 1 {seed} --first {case}):")
                traceback.print_exc()
                return 1
            finally:
                signal.alarm(0)
            path.unlink()
            for other in extra:
                (root / other).unlink()
    print(json.dumps(outcomes))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("cases", type=int)
    parser.add_argument("seed", type=int)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--progress", type=Path)
    args = parser.parse_args()
    sys.exit(main(args.cases, args.seed, args.first, args.progress))
