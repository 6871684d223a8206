"""Run by tests/test_editor_assets.py (and the pack maker used by tests/editor_prefabs_child.py)
inside a private Xvfb display: a real editor over the base pack and a test pack, its asset
browser driven as clicks drive it; what happened is printed as one JSON object on the last line.

``python -m tests.editor_assets_child FOLDER [second]``: the second run opens the same folders
again (same thumbnail cache) and reports whether anything had to be drawn.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACK_TOML = '''schema = 1
id = "testpack"
version = "1.0.0"
kind = "content"
name = "Editor test pack"
engine = "^1.0"
'''


def make_pack(folder: Path) -> Path:
    """A folder pack ``testpack``: the crate (copied), a broken model, a sound, a checker image and
    a copy of the pillar lamp prefab (so applying to it writes no file of the base pack)."""
    pack = folder / "packs" / "testpack"
    if pack.is_dir():
        return pack
    for sub in ("models/props", "sounds", "images", "prefabs"):
        (pack / sub).mkdir(parents=True, exist_ok=True)
    (pack / "pack.toml").write_text(PACK_TOML, encoding="utf-8")
    shutil.copy(ROOT / "content/base/models/crate.gltf", pack / "models/props/crate.gltf")
    (pack / "models/broken.gltf").write_text('{"asset": {"version": "2.0"}, "meshes": [7]}', encoding="utf-8")
    shutil.copy(ROOT / "content/base/sounds/click.wav", pack / "sounds/click.wav")
    shutil.copy(ROOT / "content/base/prefabs/pillar_lamp.prefab.json", pack / "prefabs/lamp.prefab.json")
    (pack / "prefabs/broken.prefab.json").write_text('{"storm_prefab": 3, "entities": [{"key": 5}]}', encoding="utf-8")
    from panda3d.core import Filename, PNMImage

    image = PNMImage(32, 16, 3)
    for x in range(32):
        for y in range(16):
            on = (x // 4 + y // 4) % 2
            image.setXel(x, y, (1.0, 0.9, 0.1) if on else (0.1, 0.2, 0.9))
    image.write(Filename.fromOsSpecific(str(pack / "images/checker.png")))
    return pack


def make_runtime(folder: Path) -> Any:
    from engine.host.runtime import create_runtime
    from engine.packs.content import default_content

    content = default_content()
    content.add_pack(make_pack(folder))
    return create_runtime(content)


def settle_thumbnails(ed: Any, most_s: float = 120.0) -> int:
    """Run frames until the browser has no thumbnails left to draw (bounded); frames run."""
    import time

    deadline = time.monotonic() + most_s
    frames = 0
    while ed.app.assets._pending and time.monotonic() < deadline:
        ed.step()
        frames += 1
    ed.settle()
    return frames


def flows(folder: Path, second: bool) -> dict[str, Any]:
    import dearpygui.dearpygui as dpg

    from editor.driver import EditorDriver

    out: dict[str, Any] = {}
    with EditorDriver(None, size=(1600, 1000), runtime=make_runtime(folder)) as ed:
        browser = ed.app.assets
        out["folders"] = browser.folders
        browser.choose_folder("testpack")
        browser.choose_folder("testpack/models")
        out["shown_models_folder"] = [a.id for a in browser._shown]
        settle_thumbnails(ed)
        cache = browser.thumbnails
        out["thumbnail_crate"] = str(cache.path_for("testpack:models/props/crate.gltf"))
        out["thumbnail_broken"] = str(cache.path_for("testpack:models/broken.gltf"))
        out["thumbnail_folder"] = str(cache.folder)
        out["failed"] = dict(cache.failed)
        out["drawn"], out["hits"] = cache.drawn, cache.hits
        out["icons"] = {a: browser.textures.get(a, 0) != browser._kind_icons["model"]
                        for a in ("testpack:models/props/crate.gltf",)}
        if second:
            return out
        # search over every pack; the kind filter
        browser.choose_folder("")
        dpg.set_value("storm_assets_filter", "crate")
        browser.refresh()
        out["search_crate"] = [a.id for a in browser._shown]
        dpg.set_value("storm_assets_filter", "")
        dpg.set_value("storm_assets_kind", "sound")
        browser.refresh()
        out["kind_sound"] = sorted({a.kind for a in browser._shown})
        dpg.set_value("storm_assets_kind", "all")
        # a click on a sound plays it (the null device here records what would play)
        out["sound_text"] = browser.choose("testpack:sounds/click.wav")
        device = browser.sounds.device
        out["sound_device"] = getattr(device, "kind", "")
        out["sound_played"] = [r.sound for r in getattr(device, "played", [])]
        # an image shows in the preview
        out["image_text"] = browser.choose("testpack:images/checker.png")
        pixels = dpg.get_value("storm_asset_preview_texture")
        colours = {(round(pixels[i], 1), round(pixels[i + 1], 1), round(pixels[i + 2], 1))
                   for i in range(0, len(pixels), 4 * 7)}
        out["image_colours"] = len(colours)
        out["model_text"] = browser.choose("testpack:models/broken.gltf")
        # the browser with thumbnails, for the docs (models of both packs shown)
        dpg.set_value("storm_assets_filter", "")
        browser.choose_folder("")
        dpg.set_value("storm_assets_kind", "model")
        browser.refresh()
        settle_thumbnails(ed)
        browser.choose("testpack:models/props/crate.gltf")
        out["shot"] = str(ed.screenshot(folder / "assets.png"))
        out["assets_rect"] = [list(dpg.get_item_pos(ed.app.windows["assets"])),
                              list(dpg.get_item_rect_size(ed.app.windows["assets"]))]
        out["rows"] = [[list(dpg.get_item_rect_min(i)), dpg.get_item_user_data(r)]
                       for g, i, r in browser._rows if dpg.is_item_shown(g)]
        # icons in memory stay bounded: the oldest not shown are deleted
        import editor.asset_browser as asset_browser

        asset_browser.MAX_TEXTURES = 1
        dpg.set_value("storm_assets_kind", "all")
        browser.choose_folder("testpack/images")
        settle_thumbnails(ed)
        out["icons_kept"] = sorted(browser.textures)
        out["icon_rows"] = [dpg.get_item_user_data(r) for g, _i, r in browser._rows if dpg.is_item_shown(g)]
        ed.step(3)  # drawing after the deletion goes on
    return out


def main() -> None:
    folder = Path(sys.argv[1])
    os.environ["XDG_CACHE_HOME"] = str(folder / "cache")  # the thumbnail cache lives there
    os.environ.pop("STORM_THUMBNAIL_CACHE", None)
    report = flows(folder, len(sys.argv) > 2 and sys.argv[2] == "second")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
