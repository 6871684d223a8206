"""``storm edit [world] [--size WxH]``: start the editor (main.py parses, this runs)."""
from __future__ import annotations

import os
import sys
from pathlib import Path


def edit(world: str | None, size: tuple[int, int], profile: str | None = None) -> int:
    """Open the editor on ``world`` (a new world when None) and run it until it is closed."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        print("error: the editor needs a screen (an X display: DISPLAY is not set); on a machine without one "
              "run it under a virtual screen: xvfb-run ./storm edit", file=sys.stderr)
        return 2
    from ai.install import install_ai
    from editor.app import EditorApp
    from engine.host.runtime import create_runtime
    from engine.packs.loading import open_content
    from plugins.session import start_plugins

    runtime = create_runtime(open_content(profile))
    npcs = install_ai(runtime, bubbles=True)  # as `storm play`: NPCs think in Play (scripted without a model)
    plugins = start_plugins(runtime)
    try:
        app = EditorApp(runtime, Path(world) if world else None, size, plugins=plugins)
        app.run()
    finally:
        if plugins is not None:
            plugins.stop("the editor closed")
        npcs.close()
    return 0
