"""Run by tests/test_opensim_visiting.py in its own process (one Panda3D window per process): visit
the region as the second avatar, rez a box beside the avatar, wait until its texture came through
the region's texture capability, and screenshot it offscreen twice: textured, then with the
texture taken off (the flat colour). Prints one JSON line: the centre pixels and the stats.

Usage: python -m tests.opensim_texture_child LOGIN_URI FIRST LAST OUT_DIR (password on stdin).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from panda3d.core import Filename, PNMImage

from engine.core.edit_commands import CreateEntity
from engine.host.app import App
from engine.host.runtime import create_runtime
from netcode.opensim.region_world import RegionObject
from netcode.opensim.visit import Visit

SIZE = (320, 180)


def centre(path: Path) -> list[float]:
    """The mean colour of the 20x20 pixels at the image's centre (0..1)."""
    image = PNMImage()
    assert image.read(Filename.fromOsSpecific(str(path)))
    cx, cy = image.getXSize() // 2, image.getYSize() // 2
    total = [0.0, 0.0, 0.0]
    for x in range(cx - 10, cx + 10):
        for y in range(cy - 10, cy + 10):
            pixel = image.getXel(x, y)
            for k in range(3):
                total[k] += pixel[k] / 400.0
    return [round(v, 4) for v in total]


def main() -> int:
    uri, first, last, out = sys.argv[1:5]
    folder = Path(out)
    password = sys.stdin.readline().strip()
    trip = Visit.start(uri, first, last, password, create_runtime(), profile="game", texture_cache=folder / "cache")
    app = None
    try:
        assert trip.tick_until(lambda: trip.session.mirror.local_avatar != 0 and trip.session.heights.complete, 30)
        x, y, z = trip.session.position
        box = (x + 8.0, y, z + 1.0)
        trip.session.rez("box", box, (3.0, 3.0, 3.0))
        world = trip.world
        world.apply(CreateEntity.new("sun", 0, {"Light": {"kind": "directional", "intensity": 3.0}},
                                     {"hpr": [20.0, -40.0, 0.0]}))
        world.apply(CreateEntity.new("sky", 0, {"Environment": {}}))
        world.apply(CreateEntity.new("camera", 0, {"Camera": {"far": 500.0}},
                                     {"pos": [box[0], box[1] - 7.0, box[2]], "hpr": [0.0, 0.0, 0.0]}))
        app = App("offscreen", size=SIZE)
        app.load(world)

        def the_box() -> int:
            for component in world.all_of(RegionObject).values():
                node = world.node(component.entity)
                if component.kind == "prim" and abs(node.getX() - box[0]) < 0.5 and abs(node.getY() - box[1]) < 0.5:
                    return component.entity
            return 0

        deadline = time.monotonic() + 40
        textures = trip.session.textures
        assert textures is not None
        while time.monotonic() < deadline and not (the_box() and world.node(the_box()).hasTexture()):
            app.step(1 / 60)
        entity = the_box()
        textured = world.node(entity).hasTexture() if entity else False
        for _ in range(3):
            app.step(1 / 60)
        with_texture = app.screenshot(folder / "textured.png")
        pixel = centre(with_texture)
        plain_pixel = None
        if entity:
            world.node(entity).clearTexture()
            plain_pixel = centre(app.screenshot(folder / "flat.png"))
        component = world.get(entity, RegionObject) if entity else None
        print(json.dumps({"textured": textured, "texture": component.texture if component else "",
                          "pixel": pixel, "flat": plain_pixel, "stats": dict(textures.stats),
                          "fetcher": dict(textures.fetcher.stats),
                          "cached": sorted(p.name for p in (folder / "cache").glob("*.j2c"))}), flush=True)
    finally:
        trip.close()
        if app is not None:
            app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
