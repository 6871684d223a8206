"""The example mod (content/village) through the pack system as a player meets it: enabled in a
profile it changes what the demo shows, patches base's lamp and input map, brings a prefab with
a sound and a world, runs its plugin sandboxed, and survives being zipped."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.audio import AudioSystem
from engine.data.world_file import load_world_data
from engine.host.runtime import create_runtime
from engine.input import InputSystem
from engine.packs.discovery import scan_packs
from engine.packs.loading import open_content, plan_content, registry_from_plan
from engine.packs.pack_build import build_pack
from engine.packs.pack_commands import enable_pack
from engine.packs.profile import Profile
from engine.render.components import Light, MeshRenderer
from plugins.session import start_plugins
from tests.conftest import REPO_ROOT

VILLAGE = REPO_ROOT / "content" / "village"
LAMP = "base:prefabs/pillar_lamp.prefab.json"
SQUARE = "village:worlds/square.world.json"


def with_village() -> Profile:
    return Profile(enabled=["base", "village"])


def run_main(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, STORM_HOME=str(home))
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "main.py", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_enabling_the_mod_turns_the_demo_lamps_red(tmp_path: Path) -> None:
    plain_home, mod_home = tmp_path / "plain", tmp_path / "modded"
    done = run_main("pack", "enable", "village", home=mod_home)
    assert done.returncode == 0 and "load order: base 0.2.0, village 1.0.0" in done.stdout
    shots = {}
    for name, home in (("plain", plain_home), ("modded", mod_home)):
        out = tmp_path / f"{name}.png"
        done = run_main("play", "--offscreen", "--frames", "2", "--size", "320x180", "--screenshot", str(out), home=home)
        assert done.returncode == 0, done.stderr[-2000:]
        shots[name] = np.asarray(Image.open(out).convert("RGB"), dtype=np.float64) / 255.0
    changed = np.abs(shots["modded"] - shots["plain"]).max(axis=2) > 0.15
    assert 10 < changed.sum() < 0.02 * changed.size  # a lamp's globe changed, not the whole picture
    modded, plain = shots["modded"][changed], shots["plain"][changed]
    assert (modded[:, 0] - modded[:, 1]).mean() > 0.3  # red where the globe is, with the mod
    assert (plain[:, 1] - modded[:, 1]).mean() > 0.2  # the base globe there is yellow: much more green


def test_the_mod_patches_base_and_says_so() -> None:
    content = open_content(with_village())
    lamp = content.read_json(LAMP)
    assert lamp["entities"][2]["components"]["MeshRenderer"]["color"] == [0.95, 0.15, 0.1, 1]
    assert lamp["entities"][0]["name"] == "Village lamp"
    record = content.why(LAMP)
    assert [(c.kind, c.pack, c.status) for c in record.changes] == [("patch", "village", "applied")]
    world = create_runtime(content).new_world()
    actions = world.system(InputSystem).actions
    assert actions.map.actions["wave"].kind == "button"  # the input map gained an action


def test_the_mods_world_prefab_sound_and_sandboxed_plugin_play(tmp_path: Path) -> None:
    runtime = create_runtime(open_content(with_village()))
    host = start_plugins(runtime, watch_seconds=None)
    assert host is not None
    try:
        assert [(s["id"], s["status"], s["trusted"]) for s in host.status()] == [("village", "running", False)]
        world = load_world_data(runtime.content.read_json(SQUARE), SQUARE, runtime)
        signpost = world.prefab_instances[8]
        board = signpost.members["board"]
        lantern = world.find("Lantern")
        globe = world.prefab_instances[6].members["globe"]
        assert tuple(world.get(globe, MeshRenderer).color) == (0.95, 0.15, 0.1, 1)  # base's lamp, patched
        seen = set()
        for _ in range(5):
            world.tick()
            seen.add(world.get(lantern, Light).intensity)
        assert len(seen) >= 4  # the plugin's system makes the lantern flicker
        audio = world.system(AudioSystem)
        assert [r.sound for r in audio.device.plays_of(board)] == ["village:sounds/chime.wav"]
        assert host.failures == []
        world.close()
    finally:
        host.stop("test over")


def test_the_mod_zipped_loads_the_same(tmp_path: Path) -> None:
    built = build_pack(VILLAGE, tmp_path / "packs" / "village.zip")
    assert built.pack == "village" and Path(built.path).stat().st_size > 0
    plan = plan_content(with_village(), folders=[REPO_ROOT / "content", tmp_path / "packs"])
    assert any("2 packs have the id village" in problem for problem in plan.problems)  # the folder and the zip
    zip_only = plan_content(with_village(), folders=[tmp_path / "packs"])
    assert "village 1.0.0 needs base >=0.2, which is not installed" in zip_only.problems
    base_folder = tmp_path / "base_only"
    shutil.copytree(REPO_ROOT / "content" / "base", base_folder / "base")
    content = registry_from_plan(plan_content(with_village(), folders=[base_folder, tmp_path / "packs"]))
    assert str(content.pack("village").root).endswith("village.zip")
    assert content.read_json(LAMP)["entities"][2]["components"]["MeshRenderer"]["color"] == [0.95, 0.15, 0.1, 1]
    assert content.read("village:sounds/chime.wav")[:4] == b"RIFF"
    assert [p.id for p in scan_packs([tmp_path / "packs"]).packs] == ["village"]


def test_enable_refuses_what_would_not_load(tmp_path: Path) -> None:
    status, text = enable_pack("village", tmp_path / "profile.toml")
    assert status == 0 and (tmp_path / "profile.toml").exists()
    with pytest.raises(Exception) as info:
        enable_pack("nothing_like_it", tmp_path / "profile.toml")
    assert "no installed pack has the id 'nothing_like_it'" in str(info.value)


def test_the_mods_plugin_command_runs_with_the_profiles_setting(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run_main("pack", "enable", "village", home=home).returncode == 0
    done = run_main("plugin", "run", "village:status", home=home)
    assert done.returncode == 0 and "lanterns flicker at 0.4" in done.stdout  # the manifest's default
    profile = home / "profile.toml"
    profile.write_text(profile.read_text(encoding="utf-8") + "\n[settings.village]\nflicker = 0.9\n", encoding="utf-8")
    done = run_main("plugin", "run", "village:status", home=home)
    assert done.returncode == 0 and "lanterns flicker at 0.9" in done.stdout, done.stdout + done.stderr
    listed = run_main("plugin", "list", home=home)
    assert "village: running, sandboxed" in listed.stdout and "storm plugin run village:status" in listed.stdout
