"""Run by tests/test_editor_gizmos.py inside a private Xvfb display: the real editor driven through
its view controller (the path the panel's mouse takes) with the translate, rotate and scale
gizmos, snapping, world and local axes on a parented entity, box select, hide and lock; what
happened is printed as one JSON object on the last line.
"""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from panda3d.core import Point3, Quat, Vec3

from editor.picking import project
from tests.editor_flow_child import WORLD, aim, pos

# the flows' world, with the holder turned a quarter round (its child's own X axis is the world's Y)
GIZMO_WORLD: dict[str, Any] = copy.deepcopy(WORLD)
for _entity in GIZMO_WORLD["entities"]:
    if _entity["id"] == 7:
        _entity["transform"] = {"pos": [0, 3, 0], "hpr": [90, 0, 0]}
# a long thin rod lying diagonally: the box of its outline on screen is mostly empty
GIZMO_WORLD["entities"].append({"id": 13, "name": "Rod", "transform": {"pos": [-5, 5, 0.2], "hpr": [45, 0, 0],
                                                                      "scale": [6, 0.2, 0.2]},
                                "components": {"MeshRenderer": {"color": [0.8, 0.8, 0.8, 1]}}})


def write_world(folder: Path) -> Path:
    path = folder / "gizmos.world.json"
    path.write_text(json.dumps(GIZMO_WORLD, indent=2) + "\n", encoding="utf-8")
    return path


def rounded(values: Any, digits: int = 4) -> list[float]:
    return [round(float(v), digits) + 0.0 for v in values]


def hpr(ed: Any, eid: int) -> list[float]:
    return rounded(ed.world.node(eid).getHpr())


def scale(ed: Any, eid: int) -> list[float]:
    return rounded(ed.world.node(eid).getScale())


def world_pos(ed: Any, eid: int) -> list[float]:
    return rounded(ed.world.node(eid).getPos(ed.world.root))


def steps(ed: Any) -> int:
    return len(ed.session.document.history.undo_names())


def along(ed: Any, points: list[tuple[float, float]], ctrl: bool = False) -> None:
    """Press on the first point, move through the others, release on the last (view pixels)."""
    controller = ed.app.controller
    controller.press(0, *points[0], ctrl=ctrl)
    for point in points[1:]:
        controller.move(*point, ctrl=ctrl)
        ed.app.frame()
    controller.release(0, *points[-1], ctrl=ctrl)
    ed.settle()


def ring_points(ed: Any, axis: str, first: int, segments: float) -> list[tuple[float, float]]:
    """Points along the ring of ``axis`` from vertex ``first`` over ``segments`` (7.5 degrees each;
    a fraction ends between two vertices)."""
    ring = list(ed.handle(axis).points)
    assert len(ring) == 49, len(ring)  # the whole ring is in front of the camera
    whole = int(segments)
    out = [ring[(first + i) % 48] for i in range(whole + 1)]
    rest = segments - whole
    if rest:
        a, b = ring[(first + whole) % 48], ring[(first + whole + 1) % 48]
        out.append((a[0] + (b[0] - a[0]) * rest, a[1] + (b[1] - a[1]) * rest))
    return out


def box_around(ed: Any, point: tuple[float, float, float], half: float = 30.0) -> tuple[tuple[float, float], ...]:
    x, y = ed.view_point(point)
    return (x - half, y - half), (x + half, y + half)


def flows(folder: Path) -> dict[str, Any]:
    from editor.driver import EditorDriver

    out: dict[str, Any] = {}
    with EditorDriver(write_world(folder), size=(1280, 800)) as ed:
        aim(ed)
        prefs = ed.session.prefs
        out["prefs_defaults"] = [prefs.snap_on, prefs.snap_step, prefs.snap_angle, prefs.snap_scale]

        # -- rotate: the red box about the world's Z, snapped (Ctrl) and not --------------------------
        ed.select([5])
        ed.action("rotate")
        out["tool"] = ed.session.gizmo.tool
        out["ring_kinds"] = sorted(h.kind for h in ed.app.controller.handles())
        out["shot_rotate"] = str(ed.screenshot(folder / "rotate.png"))
        out["ring_z_screen"] = [list(map(round, p)) for p in ring_points(ed, "z", 3, 6)]
        out["view_origin"] = ed.view_origin()
        before = steps(ed)
        along(ed, ring_points(ed, "z", 3, 6.6))  # about 49.5 degrees, unsnapped
        out["rotate_free"] = hpr(ed, 5)
        ed.undo()
        along(ed, ring_points(ed, "z", 3, 6.6), ctrl=True)  # the same drag with Ctrl: 15 degree steps
        out["rotate_snapped"] = {"hpr": hpr(ed, 5), "pos": pos(ed, 5), "steps": steps(ed) - before,
                                 "exact_h": ed.world.node(5).getH()}  # the command stored 45, not 45.000003
        ed.undo()
        out["rotate_undone"] = hpr(ed, 5)
        prefs.snap_on = True  # snapping on: now Ctrl turns it off
        along(ed, ring_points(ed, "z", 3, 6.6))
        out["rotate_snap_on"] = hpr(ed, 5)
        ed.undo()
        along(ed, ring_points(ed, "z", 3, 6.6), ctrl=True)
        out["rotate_snap_on_ctrl"] = hpr(ed, 5)
        ed.undo()
        prefs.snap_on = False
        from editor.snap_settings import set_step

        out["angle_step_refused"] = set_step(ed.session, "snap_angle", 500)
        out["angle_step_taken"] = set_step(ed.session, "snap_angle", 30)
        along(ed, ring_points(ed, "z", 3, 6.6), ctrl=True)  # about 49.5 degrees: 60 in 30 degree steps
        out["rotate_30_steps"] = hpr(ed, 5)
        ed.undo()
        set_step(ed.session, "snap_angle", 15)

        # -- two entities turn about the primary's origin: blue swings round red ----------------------------
        ed.select([5, 6])
        along(ed, ring_points(ed, "z", 3, 24), ctrl=True)  # half a turn
        out["rotate_two"] = {"red": [pos(ed, 5), hpr(ed, 5)], "blue": [pos(ed, 6), hpr(ed, 6)]}
        ed.undo()

        # -- rotate a parented entity: world X, then its own X -----------------------------------------
        camera = ed.session.camera  # from the side a little: the X ring is not seen edge-on
        camera.heading = 35.0
        camera.version += 1
        ed.select([8])
        start_world = world_pos(ed, 8)
        along(ed, ring_points(ed, "x", 3, 6), ctrl=True)
        out["child_world_x"] = {"hpr": hpr(ed, 8), "world_pos": world_pos(ed, 8), "start_world_pos": start_world}
        quat = ed.world.node(8).getQuat(ed.world.root)
        turn = Quat()
        turn.setFromAxisAngle(45, Vec3(1, 0, 0))
        expected = Quat()
        expected.setHpr((90, 0, 0))
        expected = expected * turn
        out["child_world_x"]["quat_matches"] = bool(quat.almostSameDirection(expected, 1e-4))
        ed.undo()
        ed.action("rotate")  # again: local axes
        out["space_after_second_press"] = ed.session.gizmo.space
        along(ed, ring_points(ed, "x", 3, 6), ctrl=True)
        out["child_local_x"] = {"hpr": hpr(ed, 8), "world_pos": world_pos(ed, 8)}
        ed.undo()

        # -- translate: along the child's own X (the world's Y), then world grid snapping --------------
        ed.action("translate")
        out["translate_space"] = ed.session.gizmo.space  # stays local
        before = world_pos(ed, 8)
        ed.drag_gizmo("x", 60)
        out["child_local_move"] = {"before": before, "after": world_pos(ed, 8)}
        ed.undo()
        ed.action("translate")  # back to world axes
        ed.select([5])
        ed.drag_gizmo("x", 37)
        out["red_free_x"] = pos(ed, 5)
        ed.drag_gizmo("x", 23, ctrl=True)
        out["red_grid_x"] = pos(ed, 5)
        ed.undo()
        ed.undo()

        # -- scale: one axis snapped, uniform, a parented entity's own axis ------------------------------
        ed.action("scale")
        handle = ed.handle("x")
        length = ((handle.end[0] - handle.start[0]) ** 2 + (handle.end[1] - handle.start[1]) ** 2) ** 0.5
        before = steps(ed)
        ed.drag_gizmo("x", length * 0.7 * 0.52, ctrl=True)
        out["scale_x_snapped"] = {"scale": scale(ed, 5), "steps": steps(ed) - before, "pos": pos(ed, 5),
                                  "hpr": hpr(ed, 5)}
        ed.undo()
        out["scale_undone"] = scale(ed, 5)
        centre = ed.handle("xyz").start
        ed.drag(centre, (centre[0] + 50, centre[1]))
        out["scale_uniform"] = scale(ed, 5)
        ed.undo()
        ed.select([8])
        ed.drag_gizmo("x", 30, ctrl=True)
        out["child_scale"] = scale(ed, 8)
        ed.undo()
        ed.action("translate")

        aim(ed)

        # -- box select: what shows in the box, wherever its origin is ------------------------------------
        ed.select([])
        a, b = box_around(ed, (0, -3, 0), 20)  # only ground there, its origin far away
        ed.drag(a, b)
        out["box_ground"] = ed.selected
        ed.select([4])
        ed.action("lock")  # the ground out of the way (one undo step, undone below)
        out["ground_lock_steps"] = steps(ed)
        ed.select([])
        a, b = box_around(ed, (-2, 0, 0.5))
        ed.drag(a, b)
        out["box_red"] = ed.selected
        a, b = box_around(ed, (2, 0, 0.5))
        ed.drag(a, b, shift=True)
        out["box_shift_blue"] = ed.selected
        a, b = box_around(ed, (0, 3, 0.25), 40)
        ed.drag(b, a)  # drawn from the bottom right corner
        out["box_holder_and_child"] = ed.selected
        a, b = box_around(ed, (4, 4, 1.0), 60)
        ed.drag(a, b)
        out["box_lamp"] = ed.selected
        ed.select([])
        a, b = box_around(ed, (0, -3, 0), 20)  # the ground locked: nothing
        ed.drag(a, b)
        out["box_empty"] = ed.selected
        rod_ends = [ed.view_point(p) for p in ((-7.12, 2.88, 0.2), (-2.88, 7.12, 0.2))]
        beside = ed.view_point((-2.88, 2.88, 0.2))  # inside the rod's on-screen bounding rectangle, off the rod
        out["rod_rect_holds_beside"] = all(min(e[i] for e in rod_ends) < beside[i] < max(e[i] for e in rod_ends)
                                          or abs(beside[i] - rod_ends[0][i]) < 1 for i in (0, 1))
        a, b = box_around(ed, (-2.88, 2.88, 0.2), 15)
        ed.drag(a, b)
        out["box_beside_rod"] = ed.selected
        a, b = box_around(ed, (-3.6, 6.4, 0.2), 15)  # on the rod near its upper end, far from its origin
        ed.drag(a, b)
        out["box_rod_end"] = ed.selected
        ed.undo()  # Ctrl+Z's undo: the ground unlocked
        out["ground_unlocked"] = [sorted(ed.session.marks.locked), steps(ed), ed.session.document.dirty]

        # -- an edge-on ring (the child's world X ring, seen from straight behind) turns by mouse travel --
        ed.select([8])
        ed.action("rotate")
        out["edge_on_space"] = ed.session.gizmo.space
        start = ed.handle("x").points[6]
        ed.drag(start, (start[0] + 60, start[1]), ctrl=True)  # 30 degrees at half a degree a pixel
        out["edge_on"] = hpr(ed, 8)
        ed.undo()
        ed.action("translate")

        # -- hide and lock --------------------------------------------------------------------------------
        red_px = ed.view_point((-2, 0, 0.5))
        ed.select([5])
        ed.action("hide")
        out["hidden_pick"] = ed.click(*red_px)  # the ground behind the hidden box
        ed.select([])  # (no tint over the picture)
        out["shot_hidden"] = str(ed.screenshot(folder / "hidden.png"))
        a, b = box_around(ed, (-2, 0, 0.5))
        ed.drag(a, b)
        out["hidden_box"] = ed.selected
        ed.select([])  # (the boxed ground's tint off the picture)
        ed.play(0.1)
        out["shot_hidden_playing"] = str(ed.screenshot(folder / "hidden_playing.png"))
        game_camera = ed.app.renderer.app.base.camera.getTransform(ed.world.root)
        film = project(ed.app.renderer.lens, game_camera, Point3(-2, 0, 0.5))
        (ox, oy), (w, h) = ed.view_origin(), ed.app.controller.size
        out["red_screen_playing"] = [int(ox + (film[0] + 1) * 0.5 * w), int(oy + (1 - film[1]) * 0.5 * h)]
        ed.stop()
        ed.select([5])
        ed.action("hide")
        ed.select([])  # (a click at the origin of a selected entity grabs its gizmo)
        out["shown_pick"] = ed.click(*red_px)
        ed.select([5])
        ed.action("lock")
        out["locked_handles"] = len(ed.app.controller.handles())
        ed.select([])
        out["locked_pick"] = ed.click(*red_px)
        a, b = box_around(ed, (-2, 0, 0.5))
        ed.drag(a, b)
        out["locked_box"] = ed.selected
        ed.select([9])
        ed.action("lock")  # a prefab instance: its parts are locked with it
        ed.select([])
        out["locked_lamp_pick"] = ed.click(*ed.view_point((4.2, 4, 2.3)))
        a, b = box_around(ed, (4, 4, 1.0), 60)
        ed.drag(a, b)
        out["locked_lamp_box"] = ed.selected
        out["red_screen"] = ed.screen_point((-2, 0, 0.5))
        out["saved_unchanged"] = ed.session.document.dirty is False
    return out


def main() -> int:
    folder = Path(sys.argv[1])
    print(json.dumps(flows(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
