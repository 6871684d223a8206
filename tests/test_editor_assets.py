"""The asset browser under Xvfb with real Dear PyGui and Panda3D (tests/editor_assets_child.py in a
child process): the folder tree and search over two packs, model thumbnails drawn offscreen into
the user's cache folder (a picture of the model, not the background; a broken model gets the
placeholder and a warning; a second editor start draws nothing again), a sound played on click
through the audio device, an image shown in the preview, and a screenshot with the thumbnails.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from panda3d.core import Filename, PNMImage

from editor.thumbnails import BACKGROUND
from tests.xvfb import big_x_display, child_env  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent


def run_child(folder: Path, display: str, *extra: str) -> dict[str, Any]:
    completed = subprocess.run([sys.executable, "-m", "tests.editor_assets_child", str(folder), *extra], cwd=ROOT,
                               env=child_env(display, folder), capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    display = request.getfixturevalue("big_x_display")
    folder = tmp_path_factory.mktemp("editor-assets")
    first = run_child(folder, display)
    second = run_child(folder, display, "second")
    return {"first": first, "second": second, "folder": str(folder)}


def picture(path: str) -> PNMImage:
    image = PNMImage()
    assert image.read(Filename.fromOsSpecific(path)), path
    return image


def share_unlike_background(image: PNMImage) -> float:
    bg = BACKGROUND[:3]
    differ = 0
    for x in range(image.getXSize()):
        for y in range(image.getYSize()):
            if sum(abs(a - b) for a, b in zip(image.getXel(x, y), bg)) > 0.15:
                differ += 1
    return differ / (image.getXSize() * image.getYSize())


def test_folders_and_search_cover_every_pack(runs: dict[str, Any]) -> None:
    first = runs["first"]
    assert {"base", "base/models", "testpack", "testpack/models", "testpack/models/props"} <= set(first["folders"])
    assert first["shown_models_folder"] == ["testpack:models/broken.gltf", "testpack:models/props/crate.gltf"]
    assert first["search_crate"] == ["base:models/crate.gltf", "testpack:models/props/crate.gltf"]
    assert first["kind_sound"] == ["sound"]


def test_a_model_thumbnail_shows_the_model_and_lives_in_the_user_cache(runs: dict[str, Any]) -> None:
    first = runs["first"]
    path = Path(first["thumbnail_crate"])
    assert path.is_file() and path.parent.parent == Path(runs["folder"]) / "cache" / "storm" / "thumbnails"
    image = picture(str(path))
    assert share_unlike_background(image) > 0.1  # the crate covers a good part of the tile
    r, g, b = image.getXel(image.getXSize() // 2, image.getYSize() // 2)
    assert r > b and r > 0.2, (r, g, b)  # the crate is brown: more red than blue, not the bluish background
    assert first["icons"]["testpack:models/props/crate.gltf"]  # the list row shows it, not the kind's icon


def test_a_broken_model_gets_the_placeholder_and_a_warning(runs: dict[str, Any]) -> None:
    first = runs["first"]
    assert "placeholder" in first["thumbnail_broken"]
    assert "meshes[0]" in first["failed"]["testpack:models/broken.gltf"]
    assert "does not load" in first["model_text"]
    r, g, b = picture(first["thumbnail_broken"]).getXel(48, 48)
    assert r > 0.9 and b > 0.9 and g < 0.1  # the magenta cross


def test_a_second_start_uses_the_cache(runs: dict[str, Any]) -> None:
    first, second = runs["first"], runs["second"]
    assert first["drawn"] >= 1
    assert second["drawn"] == 0 and second["hits"] >= 1
    assert second["thumbnail_crate"] == first["thumbnail_crate"]


def test_a_click_on_a_sound_plays_it(runs: dict[str, Any]) -> None:
    first = runs["first"]
    assert first["sound_played"] == ["testpack:sounds/click.wav"]
    assert first["sound_device"] == "null"  # runtime audio "null" here; the editor asks for OpenAL
    assert "playing" in first["sound_text"]


def test_an_image_is_previewed(runs: dict[str, Any]) -> None:
    first = runs["first"]
    assert "32 x 16 pixels" in first["image_text"]
    assert first["image_colours"] >= 3  # yellow and blue squares on the dark tile


def test_the_screenshot_shows_thumbnails_in_the_browser(runs: dict[str, Any]) -> None:
    first = runs["first"]
    shot = picture(first["shot"])
    crate_row = next(pos for pos, asset in first["rows"] if asset == "base:models/crate.gltf")
    x, y = int(crate_row[0] + 18), int(crate_row[1] + 18)
    r, g, b = shot.getXel(x, y)
    assert r > 0.3 and r > b + 0.1, (r, g, b)  # the brown crate in its row


def test_the_folder_tree_and_filter_without_a_screen() -> None:
    from editor.asset_list import Asset, folders_of, matching, visible_folders

    assets = [Asset("a:models/x/crate.gltf", "model"), Asset("a:sounds/hit.wav", "sound"),
              Asset("b:crate.prefab.json", "prefab")]
    folders = folders_of(assets)
    assert folders == ["a", "a/models", "a/models/x", "a/sounds", "b"]
    assert visible_folders(folders, set()) == ["a", "b"]
    assert visible_folders(folders, {"a"}) == ["a", "a/models", "a/sounds", "b"]
    assert visible_folders(folders, {"a/models"}) == ["a", "b"]  # a closed parent hides its open child
    assert [a.id for a in matching(assets, "a/models")] == ["a:models/x/crate.gltf"]
    assert [a.id for a in matching(assets, "", "all", "CRATE")] == ["a:models/x/crate.gltf", "b:crate.prefab.json"]
    assert matching(assets, "a", "prefab") == []


def test_the_thumbnail_cache_stays_within_its_bounds(tmp_path: Path) -> None:
    import os

    from editor.thumbnails import ThumbnailCache, placeholder_picture

    cache = ThumbnailCache(assets=None, renderer=None, folder=tmp_path, max_files=3)  # type: ignore[arg-type]
    for i in range(6):
        path = tmp_path / "ab" / f"{i:064d}.png"
        assert cache._store(path, placeholder_picture(8)) == path
        os.utime(path, (1000 + i, 1000 + i))  # written one after the other
    kept = sorted(p.name for p in tmp_path.glob("??/*.png"))
    assert len(kept) == 3 and kept[-1].startswith("0" * 63 + "5")  # the newest stay


def test_icons_in_memory_stay_bounded(runs: dict[str, Any]) -> None:
    first = runs["first"]
    assert first["icon_rows"] == ["testpack:images/checker.png"]
    assert first["icons_kept"] == ["testpack:images/checker.png"]  # the models' icons (not shown) were let go
