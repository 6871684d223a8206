"""Run by tests/test_editor_recovery.py under Xvfb, twice.

``crash WORLD``: open the world, edit it (a move and a colour), run the editor until the autosave
has written its recovery file, say so on stdout, and keep running until killed (the test kills
it with SIGKILL: no clean-up runs).

``recover WORLD OUT``: start the editor on the same world; it must offer the recovery file;
answer Recover, report what the world holds, save it to OUT and report the recovery file is gone.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def crash(world: Path) -> int:
    from editor.driver import EditorDriver
    from engine.core.edit_commands import SetTransform

    driver = EditorDriver(world, size=(1024, 700))
    driver.apply(SetTransform(5, pos=[-2, 0, 3]), "lift the red box")
    reason = driver.set_field([6], "MeshRenderer", "color", [0.0, 1.0, 0.0, 1.0])
    recovery_file, _note = driver.session.recovery.paths(driver.session.document.path)
    deadline = time.monotonic() + 60
    # until the recovery file holds both changes (an autosave may have run between the two)
    while (not recovery_file.is_file() or driver.session.autosave.pending(driver.session.document)) \
            and time.monotonic() < deadline:
        driver.step()
    print(json.dumps({"ready": recovery_file.is_file(), "recovery_file": str(recovery_file), "reason": reason}),
          flush=True)
    while True:  # until killed
        driver.step()
        time.sleep(0.02)


def recover(world: Path, out: Path) -> int:
    from editor.driver import EditorDriver

    result: dict[str, object] = {}
    with EditorDriver(world, size=(1024, 700)) as driver:
        question = driver.dialog
        result["offered"] = {"title": question.title, "text": question.text,
                             "buttons": [label for label, _ in question.buttons]} if question else None
        if question is not None:
            driver.answer("Recover")
        world_now = driver.world
        mesh = world_now.registry.get("MeshRenderer")
        p = world_now.node(5).getPos()
        result["red_pos"] = [round(p.x, 4), round(p.y, 4), round(p.z, 4)]
        result["blue_colour"] = list(world_now.get(6, mesh).color)
        result["dirty"] = driver.session.document.dirty
        result["title"] = driver.session.document.title()
        result["path"] = str(driver.session.document.path)
        recovery_file, _note = driver.session.recovery.paths(driver.session.document.path)
        result["recovery_kept_until_saved"] = recovery_file.is_file()
        driver.save()
        result["recovery_gone_after_save"] = not recovery_file.is_file()
        driver.save(out)
    print(json.dumps(result))
    return 0


def main() -> int:
    if sys.argv[1] == "crash":
        return crash(Path(sys.argv[2]))
    return recover(Path(sys.argv[2]), Path(sys.argv[3]))


if __name__ == "__main__":
    sys.exit(main())
