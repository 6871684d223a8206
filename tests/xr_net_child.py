"""Child process for the multi-user VR test: joins a server as a VR player through the same path as
``storm vr --connect`` (simulated backend, a timeline, offscreen) and watches two other players:
a desktop player (is their character drawn, where, inside the left eye's view?) and another VR
player (are their avatar's head and hands drawn instead of their character, and where?). It stops
once it has seen both and the desktop player said "seen" in chat (their word that they saw this
avatar), or after FRAMES frames. Prints one JSON line.

``python -m tests.xr_net_child URL TOKEN TIMELINE DESKTOP_ENTITY VR_PLAYER FRAMES`` (the VR player joins later)"""
from __future__ import annotations

import json
import sys
from typing import Any

from panda3d.core import NodePath, Point2, Point3

from netcode.cli import play_vr_connected
from netcode.tracked_pose import PARTS, TrackedPose
from netcode.vr_link import VRLink


def shown(node: NodePath, render: NodePath) -> bool:
    """Drawn: under render, neither it nor an ancestor hidden."""
    return node.getTop() == render and not any(node.getAncestor(i).isHidden() for i in range(node.getNumNodes()))


def main() -> int:
    url, token, timeline = sys.argv[1:4]
    desktop, other_vr, frames = int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
    seen: dict[str, Any] = {}

    def until(link: VRLink) -> bool:
        world, state = link.world, link.client.state
        render = link.session.app.base.render
        own = state.entity
        seen["own_hidden"] = world.exists(own) and world.node(own).isHidden()
        seen["rig_heading"] = link.session.rig.node(world).getH(world.root)
        seen["chat"] = [list(line) for line in state.chat]
        if world.exists(desktop):
            node = world.node(desktop)
            model = node.find("animated")
            eye = link.session.stereo.cameras[0]
            chest = eye.getRelativePoint(node, Point3(0.0, 0.0, 1.0))
            seen["desktop"] = {"pos": list(node.getPos(world.root)), "drawn": not model.isEmpty() and shown(model, render),
                               "in_left_eye": eye.node().getLens().project(chest, Point2())}
        body = state.players.get(other_vr, 0)
        pose = world.get(body, TrackedPose) if body and world.exists(body) else None
        if pose is not None:
            parts = {p: pose.part_entity(p) for p in PARTS}
            model = world.node(body).find("animated")
            seen["vr"] = {"tracked": pose.tracked, "body_drawn": not model.isEmpty() and shown(model, render),
                          "parts_drawn": all(e and world.exists(e) and shown(world.node(e), render) for e in parts.values()),
                          "head": list(world.node(parts["head"]).getPos()) if parts["head"] and world.exists(parts["head"])
                          else None}
        said = any(text == "seen" for _, text in state.chat)
        return said and bool(seen.get("desktop", {}).get("drawn")) and bool(seen.get("vr", {}).get("parts_drawn"))

    code = play_vr_connected(url, token, "vr", mode="offscreen", xr="simulated", frames=frames, timeline=timeline,
                             eye_size=(96, 72), until=until, pbr=False)
    print(json.dumps({"code": code, **seen}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
