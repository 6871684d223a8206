"""Run by tests/test_opensim_prim_mesh.py in its own process (one Panda3D window per process): a
region box whose front face (face 1, -Y) has its own texture, served by a texture capability on
127.0.0.1, and whose right face (face 2, +X) has its own colour, drawn offscreen. Prints one JSON
line: the mean colour around each visible face's centre on screen, and the entities drawing it.

Usage: python -m tests.opensim_prim_faces_child OUT_DIR
"""
from __future__ import annotations

import json
import struct
import sys
import time
import uuid
from pathlib import Path

from panda3d.core import Filename, LPoint2f, LPoint3f, PNMImage

from engine.core.edit_commands import CreateEntity
from engine.host.app import App
from engine.host.runtime import create_runtime
from netcode.opensim.login import LoginReply
from netcode.opensim.messages import Message, MessageCodec
from netcode.opensim.region import RegionSession, RegionSystem
from netcode.opensim.region_world import RegionObject
from netcode.opensim.texture_entry import encode_texture_entry
from netcode.opensim.textures import RegionTextures, TextureFetcher
from tests.test_opensim_textures import TextureServer, j2k_bytes

SIZE = (320, 180)
BOX = (128.0, 128.0, 23.0)
GREY, RED = (0.55, 0.55, 0.55, 1.0), (0.9, 0.1, 0.1, 1.0)
FACES = {"top": (0.0, 0.0, 1.5), "front": (0.0, -1.5, 0.0), "right": (1.5, 0.0, 0.0)}


def mean_around(image: PNMImage, x: int, y: int) -> list[float]:
    total = [0.0, 0.0, 0.0]
    for dx in range(-4, 5):
        for dy in range(-4, 5):
            pixel = image.getXel(x + dx, y + dy)
            for k in range(3):
                total[k] += pixel[k] / 81.0
    return [round(v, 4) for v in total]


def main() -> int:
    folder = Path(sys.argv[1])
    texture = uuid.uuid4()
    server = TextureServer({texture: j2k_bytes((64, 64), colour=(240, 0, 20))})
    runtime = create_runtime()
    runtime.add_component_type(RegionObject)
    world = runtime.new_world(name="faces", profile="game")
    reply = LoginReply(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), 1, "127.0.0.1", 9000, "", 256000, 256000, "F", "A", "")
    textures = RegionTextures(world, TextureFetcher(lambda: server.url, None, max_side=64))
    session = RegionSession(world, reply, lambda *a: None, textures)
    world.add_system(RegionSystem(session))
    codec = MessageCodec()
    entry = encode_texture_entry(uuid.UUID(int=0), GREY, {1: texture}, {2: RED})
    block = {"ID": 7, "FullID": uuid.uuid4(), "PCode": 9, "Scale": (3.0, 3.0, 3.0), "PathCurve": 16,
             "ProfileCurve": 1, "PathScaleX": 100, "PathScaleY": 100,
             "ObjectData": struct.pack("<3f", *BOX) + bytes(48), "TextureEntry": entry}
    session.receive(codec.decode(codec.encode(Message("ObjectUpdate", {
        "RegionData": [{"RegionHandle": 1, "TimeDilation": 0}], "ObjectData": [block]}))))
    world.apply(CreateEntity.new("sun", 0, {"Light": {"kind": "directional", "intensity": 3.0}},
                                 {"hpr": [30.0, -55.0, 0.0]}))
    world.apply(CreateEntity.new("sky", 0, {"Environment": {}}))
    camera = world.apply(CreateEntity.new("camera", 0, {"Camera": {"far": 200.0}}, {"pos": [132.5, 120.0, 28.0]}))
    world.node(camera.entity).lookAt(LPoint3f(*BOX))  # type: ignore[attr-defined]
    app = App("offscreen", size=SIZE)
    try:
        app.load(world)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and textures.stats["applied"] < 1:
            app.step(1 / 60)
        for _ in range(3):
            app.step(1 / 60)
        shot = app.screenshot(folder / "faces.png")
        image = PNMImage()
        assert image.read(Filename.fromOsSpecific(str(shot)))
        pixels = {}
        for name, offset in FACES.items():
            point = app.base.cam.getRelativePoint(world.root, LPoint3f(BOX[0] + offset[0], BOX[1] + offset[1],
                                                                        BOX[2] + offset[2]))
            screen = LPoint2f()
            assert app.base.camLens.project(point, screen), name
            x, y = int((screen[0] + 1) / 2 * SIZE[0]), int((1 - screen[1]) / 2 * SIZE[1])
            pixels[name] = mean_around(image, x, y)
        main_entity = session.mirror.entity_of(7)
        print(json.dumps({"pixels": pixels, "applied": textures.stats["applied"],
                          "faces": [[world.name_of(e), world.node(e).hasTexture()]
                                    for e, _look in session.mirror.looks_of(7)],
                          "main_textured": world.node(main_entity).hasTexture()}), flush=True)
    finally:
        session.close()
        app.close()
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
