"""Run by tests/test_editor_view.py inside Xvfb: the 3D view of the real editor.

The picture: on a world with a terrain, what Dear PyGui shows in the view (the whole editor
window's frame buffer) against what Panda3D drew (its own synchronous screenshot of the shaded
buffer), for each read back path and copy mode; the same after the camera moved for a few
frames (frames shown a frame late) and stopped. Edit shading draws each terrain's coarse copy
(stashing the full mesh changes nothing in the picture, stashing the copy does), full shading and
Play the full mesh; the copy is cached and made again when the terrain is rebuilt. Picking, the
placement point and a ray through a view pixel all land on the full terrain surface (Bullet's
collision surface of the same triangles), not on the coarse copy drawn.

Low resolution while moving: with the preference on, an orbit drag draws at half the panel's size
(the picture still shows the world) and the frame after the release at full size again. Play's
input: real X key events (XTEST) with the pointer over the 3D view walk the player with the game's
own bindings (W forward); the same key with the pointer over another panel moves nothing; Stop
puts the player back. Every wait is bounded by a frame count."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import dearpygui.dearpygui as dpg
from Xlib import XK, X
from Xlib import display as xdisplay
from Xlib.ext import xtest

PATIENCE = 240  # frames
WORLD = {"storm_world": 3, "name": "walk test", "entities": [
    {"id": 1, "name": "Camera", "transform": {"pos": [0, -12, 5], "hpr": [0, -15, 0]},
     "components": {"Camera": {"mode": "third_person", "target": 4, "distance": 6}}},
    {"id": 2, "name": "Sun", "transform": {"hpr": [30, -60, 0]}, "components": {"Light": {"intensity": 1.0}}},
    {"id": 3, "name": "Ground", "transform": {"pos": [0, 0, -0.5]},
     "components": {"MeshRenderer": {"model": "primitive:box", "color": [0.4, 0.5, 0.4, 1]},
                    "Collider": {"size": [40, 40, 1]}}},
    {"id": 4, "name": "Player", "transform": {"pos": [0, 0, 1]},
     "components": {"CharacterController": {"radius": 0.5, "height": 2}, "base:player.PlayerMover": {}}},
]}


TERRAIN_WORLD = {"storm_world": 3, "name": "terrain view test", "entities": [
    {"id": 1, "name": "Sun", "transform": {"hpr": [30, -60, 0]}, "components": {"Light": {"intensity": 1.0}}},
    {"id": 2, "name": "Terrain", "components": {"Terrain": {}}},
    {"id": 3, "name": "Red box", "transform": {"pos": [0, 0, 4]},
     "components": {"MeshRenderer": {"model": "primitive:box", "color": [0.9, 0.1, 0.1, 1]}}},
]}
TERRAIN = 2


def panda_picture(renderer: Any) -> Any:
    """What Panda3D drew last into the shaded buffer (its own synchronous read): RGBA, top row first."""
    import numpy as np

    output = renderer.edit.buffer if renderer.shading == "edit" else renderer.app.base.win
    renderer.contexts.to_panda(current=True)
    try:
        shot = output.getScreenshot()
    finally:
        renderer.contexts.to_ui()
    width, height = shot.getXSize(), shot.getYSize()
    return np.frombuffer(memoryview(shot.getRamImage()), np.uint8).reshape(height, width, 4)[::-1, :, [2, 1, 0, 3]]


def shown_picture(ed: Any, path: Path) -> Any:
    """The view's part of the whole editor window as Dear PyGui drew it: RGBA, top row first."""
    import numpy as np
    from panda3d.core import Filename, Texture

    ed.screenshot(path)
    texture = Texture()
    assert texture.read(Filename.fromOsSpecific(str(path))), path
    width, height = texture.getXSize(), texture.getYSize()
    window = np.frombuffer(texture.getRamImageAs("RGBA"), np.uint8).reshape(height, width, 4)[::-1]
    x, y = (int(round(v)) for v in ed.view_origin())
    w, h = ed.app.renderer.size
    return window[y:y + h, x:x + w]


def difference(a: Any, b: Any) -> dict[str, Any]:
    """How far two RGBA pictures differ (0-255 steps, colour channels), away from the text and axis
    cross drawn over the view's picture."""
    import numpy as np

    if a.shape != b.shape:
        return {"shapes": [list(a.shape), list(b.shape)]}
    h, w = a.shape[:2]
    d = np.abs(a[30:h - 10, 90:w - 10, :3].astype(np.int16) - b[30:h - 10, 90:w - 10, :3].astype(np.int16))
    return {"mean": float(d.mean()), "over_8": float((d.max(axis=2) > 8).mean()), "max": int(d.max())}


def floats_as_bytes(image: Any, size: tuple[int, int]) -> Any:
    import numpy as np

    return np.round(np.frombuffer(image, np.float32).reshape(size[1], size[0], 4) * 255.0).astype(np.uint8)


def picture_flow(ed: Any, folder: Path) -> dict[str, Any]:
    renderer = ed.app.renderer
    out: dict[str, Any] = {"paths": []}
    for readback, copy in (("pbo", "byte"), ("sync", "byte"), ("pbo", "float")):
        renderer.set_readback(readback)
        renderer.set_copy_mode(copy)
        renderer.request()
        ed.settle()
        panda = panda_picture(renderer)
        shown = shown_picture(ed, folder / f"view_{readback}_{copy}.png")
        out["paths"].append({"asked": [readback, copy], "readback": renderer.readback_path,
                             "note": renderer.readback_note, "showing": ed.app.view.showing,
                             "sizes": [list(renderer.size), list(ed.app.view.size)],
                             "shown_vs_panda": difference(shown, panda),
                             "image_vs_panda": difference(floats_as_bytes(renderer.image(), renderer.size), panda)})
    renderer.set_readback("auto")
    renderer.set_copy_mode("byte")
    ed.settle()
    camera, pending = ed.session.camera, []
    for _ in range(6):   # the camera moves: each frame draws a new picture and shows the one before
        camera.orbit(18.0, 0.0)
        ed.step()
        pending.append(renderer.pending)
    out["pending_while_moving"] = pending
    ed.settle()
    out["pending_after"] = renderer.pending
    out["moved_shown_vs_panda"] = difference(shown_picture(ed, folder / "view_moved.png"), panda_picture(renderer))
    return out


def terrain_heights(heights: Any, size: Any, x: float, y: float) -> float:
    """The height of the grid's triangles at (x, y) (``engine.terrain.mesh``'s layout and diagonals)."""
    rows, width = heights.shape
    u = (x / size[0] + 0.5) * (width - 1)
    v = (0.5 - y / size[1]) * (rows - 1)
    c, r = min(int(u), width - 2), min(int(v), rows - 2)
    fu, fv = u - c, v - r
    za, zb, zc, zd = (float(heights[r, c]), float(heights[r, c + 1]), float(heights[r + 1, c]),
                      float(heights[r + 1, c + 1]))
    z = za + fu * (zb - za) + fv * (zc - za) if fu + fv <= 1.0 else zd + (1 - fu) * (zc - zd) + (1 - fv) * (zb - zd)
    return z * size[2]


def coarse_flow(ed: Any) -> dict[str, Any]:
    import numpy as np
    from panda3d.core import Point3, Vec3

    from editor.picking import Ray, pick
    from editor.prefab_tools import surface_point
    from engine.physics.system import PhysicsSystem
    from engine.terrain.components import Terrain
    from engine.terrain.system import TerrainSystem

    renderer, world = ed.app.renderer, ed.world
    out: dict[str, Any] = {}
    renderer.set_shading("edit")
    ed.settle()
    full, coarse = renderer.terrains.meshes()[TERRAIN]
    triangles = lambda mesh: sum(mesh.node().getGeom(i).getPrimitive(0).getNumPrimitives()  # noqa: E731
                                 for i in range(mesh.node().getNumGeoms()))
    out["triangles"] = {"full": triangles(full), "coarse": triangles(coarse)}

    def picture() -> Any:
        renderer.request()
        ed.settle()
        return np.array(renderer.image_bytes(), np.uint8).reshape(renderer.size[1], renderer.size[0], 4)

    def without(mesh: Any) -> dict[str, Any]:
        mesh.stash()
        try:
            return difference(base, picture())
        finally:
            mesh.unstash()

    for shading in ("edit", "full"):
        renderer.set_shading(shading)
        picture()   # the first frame of full shading draws its shadow maps for the first time
        base = picture()
        out[shading] = {"coarse_drawn": renderer.terrains.coarse, "again": difference(base, picture()),
                        "without_full_mesh": without(full), "without_coarse_copy": without(coarse)}
    renderer.set_shading("edit")
    ed.settle()
    out["same_copy_after_draws"] = renderer.terrains.meshes()[TERRAIN][1] == coarse

    # picking while the coarse copy is drawn: the full surface
    system = world.system(TerrainSystem)
    heights, size = system.heights(TERRAIN), world.get(TERRAIN, Terrain).size
    step = (heights.shape[0] - 1) // (renderer.terrains.grid - 1)
    sparse = heights[::step, ::step]
    best = max(((x, y) for x in np.linspace(-20, 20, 81) for y in np.linspace(-20, 20, 81)),
               key=lambda p: abs(terrain_heights(heights, size, *p) - terrain_heights(sparse, size, *p)))
    x, y = float(best[0]), float(best[1])
    full_z, coarse_z = terrain_heights(heights, size, x, y), terrain_heights(sparse, size, x, y)
    down = Ray(Point3(x, y, 60.0), Vec3(0, 0, -1))
    hit = pick(world, down)
    bullet = world.system(PhysicsSystem).raycast((x, y, 60.0), (x, y, -60.0))
    placed = surface_point(ed.session, down)
    out["pick"] = {"point": [x, y], "full_z": full_z, "coarse_z": coarse_z,
                   "hit_entity": hit.entity if hit else None, "hit_z": hit.point.z if hit else None,
                   "bullet_z": float(bullet.point[2]) if bullet else None, "placed_z": placed.z}
    camera = ed.session.camera
    camera.target, camera.distance, camera.pitch = Vec3(x, y, full_z), 25.0, -50.0
    ed.settle()
    pixel = ed.view_point((x, y, full_z))
    through = pick(world, ed.app.controller.ray(*pixel)) if pixel is not None else None
    out["pick"]["through_pixel"] = (None if through is None else
                                    [through.entity, float((through.point - Point3(x, y, full_z)).length())])

    ed.play(1 / 30)
    out["coarse_in_play"] = renderer.terrains.coarse
    ed.stop()
    out["coarse_after_stop"] = renderer.terrains.coarse
    ed.set_field([TERRAIN], "Terrain", "size", [96.0, 96.0, 6.0])
    ed.settle()
    new_full, new_coarse = renderer.terrains.meshes()[TERRAIN]
    out["rebuilt"] = {"new_copy": new_coarse != coarse, "old_copy_gone": coarse.isEmpty() or coarse.getTop() != world.root.getTop(),
                      "copy_height": new_coarse.getTightBounds()[1].z, "full_height": new_full.getTightBounds()[1].z}
    return out


def wait_for_size(ed: Any) -> None:
    """Until the renderer has the panel's size (it follows once the size settles; bounded)."""
    deadline = time.monotonic() + 20
    while ed.app.renderer.size != ed.app.view.size and time.monotonic() < deadline:
        ed.step()
        time.sleep(0.02)
    ed.settle()


def low_res_flow(ed: Any) -> dict[str, Any]:
    from editor.view_input import MIDDLE

    renderer, controller = ed.app.renderer, ed.app.controller
    wait_for_size(ed)
    out: dict[str, Any] = {"panel": list(ed.app.view.size), "before": list(renderer.size)}
    ed.app.actions["low_res"]()
    centre = (ed.app.view.size[0] / 2, ed.app.view.size[1] / 2)
    controller.press(MIDDLE, *centre)
    sizes, lit = [], []
    for i in range(1, 7):
        controller.move(centre[0] + 12 * i, centre[1])
        ed.step()
        sizes.append(list(renderer.size))
        image = renderer.image()
        if image is not None:
            import numpy as np

            pixels = np.frombuffer(image, np.float32).reshape(-1, 4)
            lit.append(float(pixels[:, :3].std()))   # a picture of something, not one flat colour
    controller.release(MIDDLE, centre[0] + 72, centre[1])
    ed.settle()
    out["while_moving"], out["moving_image_spread"] = sizes, lit
    out["after"] = list(renderer.size)
    ed.app.actions["low_res"]()
    return out


def fallback(folder: Path) -> int:
    """With PyOpenGL switched off (STORM_NO_PYOPENGL): the synchronous read back and the raw float
    texture show Panda3D's picture all the same."""
    from editor.driver import EditorDriver

    path = folder / "terrain.world.json"
    path.write_text(json.dumps(TERRAIN_WORLD), encoding="utf-8")
    with EditorDriver(path, size=(1280, 800)) as ed:
        wait_for_size(ed)
        print(json.dumps({"picture": picture_flow(ed, folder)}))
    return 0


def main() -> int:
    from editor.driver import EditorDriver

    folder = Path(sys.argv[1])
    if os.environ.get("STORM_NO_PYOPENGL"):
        return fallback(folder)
    path = folder / "walk.world.json"
    path.write_text(json.dumps(WORLD), encoding="utf-8")
    x = xdisplay.Display()
    out: dict[str, Any] = {}
    with EditorDriver(path, size=(1280, 800)) as ed:
        def until(done: Callable[[], bool]) -> int | None:
            for frame in range(PATIENCE):
                ed.play(1 / 30) if ed.session.play.playing else ed.step()
                ed.step()
                if done():
                    return frame
            return None

        def pointer_at(px: float, py: float) -> None:
            xtest.fake_input(x, X.MotionNotify, x=int(round(px)), y=int(round(py)))
            x.sync()

        def key(name: str, press: bool) -> None:
            xtest.fake_input(x, X.KeyPress if press else X.KeyRelease, x.keysym_to_keycode(XK.string_to_keysym(name)))
            x.sync()

        def player() -> list[float]:
            p = ed.world.node(4).getPos()
            return [round(p.x, 3), round(p.y, 3), round(p.z, 3)]

        ed.settle()
        out["low_res"] = low_res_flow(ed)
        start = player()
        vx, vy = dpg.get_viewport_pos()
        origin = ed.view_origin()
        size = ed.app.view.size
        centre = (vx + origin[0] + size[0] / 2, vy + origin[1] + size[1] / 2)
        tree = dpg.get_item_pos(ed.app.windows["scene"])
        pointer_at(*centre)   # before Play: moving the pointer onto the view while playing would turn the camera
        until(lambda: dpg.is_item_hovered(ed.app.view.drawlist))
        ed.play()
        settled = until(lambda: ed.world.node(4).getZ() < 1.5 and abs(ed.world.node(4).getZ() - player()[2]) < 1e-3)
        out["landed"] = player()
        out["settled_frames"] = settled
        before = player()
        key("w", True)
        out["walk_frames"] = until(lambda: player()[1] > before[1] + 1.0)
        key("w", False)
        for _ in range(5):
            ed.play(1 / 30)
        out["walked"] = player()
        out["start"] = start
        out["landed_before_walk"] = before

        # the pointer over the scene tree: the game gets no keys
        pointer_at(vx + tree[0] + 40, vy + tree[1] + 60)
        until(lambda: not dpg.is_item_hovered(ed.app.view.drawlist))
        here = player()
        key("w", True)
        for _ in range(40):
            ed.play(1 / 30)
        key("w", False)
        out["away_before"], out["away_after"] = here, player()
        ed.stop()
        ed.step(3)
        out["after_stop"] = player()

        terrain_path = folder / "terrain.world.json"
        terrain_path.write_text(json.dumps(TERRAIN_WORLD), encoding="utf-8")
        out["opened_terrain"] = ed.open(terrain_path)
        wait_for_size(ed)
        out["picture"] = picture_flow(ed, folder)
        out["coarse"] = coarse_flow(ed)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
