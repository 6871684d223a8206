"""Profiles and lock files as a player meets them: which packs load (in load order) with which
settings and trust, a runtime started from a profile, bad profile values named by file and key,
and a pack changed since it was locked reported (a warning, or an error in strict mode)."""
from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import pytest

from engine.core.errors import DataError
from engine.host.runtime import create_runtime
from engine.packs.content import default_content
from engine.packs.discovery import PackFile, scan_packs
from engine.packs.loading import open_content, plan_content
from engine.packs.locations import pack_folders, storm_home, user_pack_folders
from engine.packs.pack_hash import content_hash
from engine.packs.profile import LockMismatch, Profile, make_lock, read_lock, read_profile, save_profile, write_lock
from engine.packs.resolver import ResolveError
from tests.pack_helpers import REPO_CONTENT, write_pack, write_profile

DENSITY = {"type": "float", "default": 0.5, "min": 0.0, "max": 1.0, "doc": "trees per square metre"}
SEASON = {"type": "enum", "default": "summer", "choices": ["summer", "winter"]}


@pytest.fixture(autouse=True)
def storm_home_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test has its own Storm folder, never the real one."""
    monkeypatch.setenv("STORM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STORM_PACKS_DIR", raising=False)
    return tmp_path / "home"


@pytest.fixture
def forest(storm_home_here: Path) -> Path:
    return write_pack(storm_home_here / "packs", "forest", "1.2.0", kind="both", needs={"base": ">=0.2"},
                      settings={"density": DENSITY, "season": SEASON},
                      files={"prefabs/tree.prefab.json": '{"storm_prefab": 2, "entities": [{"key": "tree"}]}\n',
                             "scripts/grow.py": "from engine.api import Behaviour\n"})


def test_the_storm_folder_follows_storm_home_then_xdg_data_home(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    assert storm_home() == tmp_path / "home" and user_pack_folders() == [tmp_path / "home" / "packs"]
    monkeypatch.delenv("STORM_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert storm_home() == tmp_path / "xdg" / "storm"
    monkeypatch.setenv("STORM_PACKS_DIR", f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert pack_folders() == [REPO_CONTENT, tmp_path / "a", tmp_path / "b"]


def test_without_a_profile_base_alone_loads_and_is_trusted() -> None:
    content = open_content()
    assert [p.name for p in content.packs()] == ["base"] and content.pack("base").trusted
    assert default_content().pack("base").trusted


def test_a_runtime_starts_from_a_profile_with_its_packs_in_load_order(storm_home_here: Path, forest: Path) -> None:
    profile = write_profile(storm_home_here / "profile.toml", ["forest", "base"], trusted=["forest"],
                            settings={"forest": {"density": 1, "season": "winter"}})
    runtime = create_runtime(profile=profile)
    assert [p.name for p in runtime.content.packs()] == ["base", "forest"]
    assert runtime.content.resolve("forest:prefabs/tree.prefab.json") == forest / "prefabs" / "tree.prefab.json"
    pack = runtime.content.pack("forest")
    assert pack.trusted and pack.settings == {"density": 1.0, "season": "winter"}
    assert isinstance(pack.settings["density"], float)
    untrusted = open_content(Profile(["base", "forest"]))
    assert not untrusted.pack("forest").trusted
    assert untrusted.pack("forest").settings == {"density": 0.5, "season": "summer"}  # the declared defaults


def test_settings_that_do_not_fit_their_declaration_are_each_named(storm_home_here: Path, forest: Path) -> None:
    path = write_profile(storm_home_here / "profile.toml", ["base", "forest"],
                         settings={"forest": {"density": 1.5, "season": "autumn", "dense": True}})
    with pytest.raises(ResolveError) as caught:
        open_content(path)
    assert caught.value.problems == [
        f"{path}: settings.forest.density: expected a number within [0.0, 1.0], got 1.5",
        f"{path}: settings.forest.season: expected one of 'summer', 'winter', got 'autumn'",
        f"{path}: settings.forest.dense: forest 1.2.0 has no setting 'dense' (its settings: density, season)",
    ]


def test_a_bad_profile_names_the_file_the_key_and_what_was_expected(storm_home_here: Path) -> None:
    path = storm_home_here / "profile.toml"
    path.parent.mkdir(parents=True)
    path.write_text('enabled = "base"\n', encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_profile(path)
    assert str(caught.value) == f"{path}: enabled: expected a list of pack ids like [\"base\", \"forest\"], got 'base'"
    path.write_text('enabled = ["base"]\nenable = ["forest"]\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"profile.toml: enable: expected one of the keys schema, enabled, trusted"):
        read_profile(path)
    path.write_text('enabled = ["base", "base"]\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"profile.toml: enabled: expected each pack id once, got 'base'"):
        read_profile(path)


def test_a_saved_profile_reads_back_the_same(tmp_path: Path) -> None:
    profile = Profile(["base", "forest"], ["forest"], {"forest": {"density": 0.25, "name": 'say "hi"\t'}})
    save_profile(profile, tmp_path / "p.toml")
    again = read_profile(tmp_path / "p.toml")
    assert (again.enabled, again.trusted, again.settings) == (profile.enabled, profile.trusted, profile.settings)
    assert again.path == tmp_path / "p.toml"


def lock_now(storm_home_here: Path, enabled: list[str]) -> Path:
    profile = write_profile(storm_home_here / "profile.toml", enabled)
    write_lock(make_lock(plan_content(profile).order), storm_home_here / "profile.lock")
    return profile


def test_a_pack_unchanged_since_locking_loads_without_a_word(storm_home_here: Path, forest: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    profile = lock_now(storm_home_here, ["base", "forest"])
    lock = read_lock(storm_home_here / "profile.lock")
    assert list(lock.packs) == ["base", "forest"] and lock.packs["forest"].version == "1.2.0"
    assert lock.packs["forest"].files == 3
    with caplog.at_level(logging.WARNING, logger="storm.packs"):
        open_content(profile, strict=True)
    assert caplog.records == []


def test_a_pack_changed_since_locking_is_reported(storm_home_here: Path, forest: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    profile = lock_now(storm_home_here, ["base", "forest"])
    (forest / "prefabs" / "tree.prefab.json").write_text('{"storm_prefab": 2, "entities": []}\n', encoding="utf-8")
    (forest / "notes.txt").write_text("new\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="storm.packs"):
        content = open_content(profile)
    assert content.pack("forest") is not None  # a warning: it still loads
    assert [r.getMessage() for r in caplog.records] == [
        "forest changed since it was locked: its files differ (3 files locked, 4 now)"]
    manifest = forest / "pack.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"1.2.0"', '"1.3.0"'), encoding="utf-8")
    with pytest.raises(LockMismatch) as caught:
        open_content(profile, strict=True)
    assert caught.value.problems == [
        "forest changed since it was locked: version 1.2.0 -> 1.3.0, and its files differ (3 files locked, 4 now)"]


def test_packs_enabled_or_disabled_since_locking_are_reported(storm_home_here: Path, forest: Path) -> None:
    lock_now(storm_home_here, ["base", "forest"])
    assert plan_content(write_profile(storm_home_here / "profile.toml", ["base"])).warnings == [
        "the lock file has forest 1.2.0, which is no longer enabled"]
    lock_now(storm_home_here, ["base"])
    assert plan_content(write_profile(storm_home_here / "profile.toml", ["base", "forest"])).warnings == [
        "forest 1.2.0 is enabled but not in the lock file (storm pack lock records it)"]


def test_a_bad_lock_file_names_the_key(storm_home_here: Path, forest: Path) -> None:
    profile = lock_now(storm_home_here, ["base", "forest"])
    lock = storm_home_here / "profile.lock"
    lock.write_text(lock.read_text(encoding="utf-8").replace("files = 3", 'files = "3"'), encoding="utf-8")
    with pytest.raises(DataError, match=r"profile.lock: packs.forest: expected version \(a string\), hash \(a string\) "
                                        r"and files \(a count\)"):
        open_content(profile)


def pack_hash(root: Path) -> str:
    (pack,) = scan_packs([root.parent]).packs
    return content_hash(pack.files(), str(root)).hash


def test_the_content_hash_counts_every_file_and_not_where_the_pack_lives(tmp_path: Path) -> None:
    one = write_pack(tmp_path / "a", "forest", files={"models/tree.gltf": "{}", ".hidden": "x"})
    two = write_pack(tmp_path / "b", "forest", files={"models/tree.gltf": "{}", ".hidden": "x"})
    first = pack_hash(one)
    assert first == pack_hash(two)
    (two / "empty_folder").mkdir()
    assert pack_hash(two) == first  # folders count only through their files
    (two / ".hidden").write_text("y", encoding="utf-8")
    assert pack_hash(two) != first  # hidden files count
    (two / ".hidden").write_text("x", encoding="utf-8")
    (two / "models" / "tree.gltf").rename(two / "models" / "oak.gltf")
    assert pack_hash(two) != first  # names count, not just bytes


def test_a_link_is_hashed_as_a_link_and_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret", encoding="utf-8")
    root = write_pack(tmp_path / "packs", "forest")
    (root / "link.txt").symlink_to(outside)
    (root / "linked_dir").symlink_to(tmp_path, target_is_directory=True)
    (pack,) = scan_packs([tmp_path / "packs"]).packs
    files = {f.path: f.link for f in pack.files()}
    assert files == {"pack.toml": None, "link.txt": str(outside), "linked_dir": str(tmp_path)}
    first = pack_hash(root)
    outside.write_text("changed", encoding="utf-8")
    assert pack_hash(root) == first
    (root / "link.txt").unlink()
    (root / "link.txt").symlink_to(tmp_path / "elsewhere.txt")
    assert pack_hash(root) != first


def test_a_pack_listing_a_path_twice_cannot_be_hashed() -> None:
    """A zip file may hold one name twice; which one a reader gets is not defined, so it is refused."""
    entries = [PackFile("models/tree.gltf", lambda: io.BytesIO(b"{}")),
               PackFile("models/tree.gltf", lambda: io.BytesIO(b"[]"))]
    with pytest.raises(DataError) as caught:
        content_hash(entries, "forest.zip")
    assert str(caught.value) == "forest.zip: models/tree.gltf: expected each file path once in a pack"
