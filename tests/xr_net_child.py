"""Child process for the multi-user VR test: joins a server as a VR player through the same path as
``storm vr --connect`` (simulated backend, a timeline, offscreen), watches another player's entity
(is it drawn, where, inside the left eye's view?) and stops once it has seen that player drawn and the player said "seen" in chat (the desktop
client's word that it saw this avatar), or after FRAMES frames. Prints one JSON line.

``python -m tests.xr_net_child URL TOKEN TIMELINE WATCHED_ENTITY FRAMES``"""
from __future__ import annotations

import json
import sys
from typing import Any

from panda3d.core import Point2, Point3

from netcode.cli import play_vr_connected
from netcode.vr_link import VRLink


def main() -> int:
    url, token, timeline, watched, frames = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    seen: dict[str, Any] = {}

    def until(link: VRLink) -> bool:
        world, state = link.world, link.client.state
        own = state.entity
        seen["own"] = own
        seen["own_hidden"] = world.exists(own) and world.node(own).isHidden()
        seen["rig_heading"] = link.session.rig.node(world).getH(world.root)
        seen["chat"] = [list(line) for line in state.chat]
        if world.exists(watched):
            node = world.node(watched)
            model = node.find("animated")
            eye = link.session.stereo.cameras[0]
            chest = eye.getRelativePoint(node, Point3(0.0, 0.0, 1.0))
            seen["watched"] = {"pos": list(node.getPos(world.root)), "model": not model.isEmpty(),
                               "drawn": not model.isEmpty() and not model.isHidden() and not node.isHidden()
                               and node.getTop() == link.session.app.base.render,
                               "in_left_eye": eye.node().getLens().project(chest, Point2())}
        said = any(text == "seen" for _, text in state.chat)
        return said and bool(seen.get("watched", {}).get("drawn"))

    code = play_vr_connected(url, token, "vr", mode="offscreen", xr="simulated", frames=frames, timeline=timeline,
                             eye_size=(96, 72), until=until, pbr=False)
    print(json.dumps({"code": code, **seen}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
