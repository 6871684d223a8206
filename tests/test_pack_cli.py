"""``storm pack new|validate|list|lock`` end to end through main.py, in a temporary Storm folder:
a new pack validates and shows up, enabling it puts it in the load order, locking records it and
a change afterwards is reported; bad packs get their problems listed."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.pack_helpers import write_pack, write_profile


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def storm(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("STORM_PACKS_DIR", "XDG_DATA_HOME")}
    env["STORM_HOME"] = str(home)
    return subprocess.run([sys.executable, str(REPO_ROOT / "main.py"), "pack", *args], capture_output=True, text=True,
                          timeout=120, cwd=REPO_ROOT, env=env)


def test_a_new_pack_validates_lists_enables_locks_and_reports_a_change(home: Path) -> None:
    made = storm(home, "new", "forest")
    root = home / "packs" / "forest"
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"wrote {root} (forest 0.1.0, kind content)")
    assert sorted(p.name for p in root.iterdir()) == ["models", "pack.toml", "prefabs", "sounds", "textures"]
    assert "# the asset namespace: forest:models/tree.glb" in (root / "pack.toml").read_text(encoding="utf-8")
    checked = storm(home, "validate", str(root))
    assert (checked.returncode, checked.stdout) == (0, "forest 0.1.0: ok (pack.toml and 0 JSON files checked)\n")

    listed = storm(home, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    base = str(REPO_ROOT / "content" / "base")
    assert lines[lines.index("load order:") + 1].split() == ["1.", "base", "0.2.0", "trusted", base]
    assert lines[lines.index("disabled:") + 1].split() == ["forest", "0.1.0", str(root)]

    write_profile(home / "profile.toml", ["base", "forest"])
    listed = storm(home, "list").stdout.splitlines()
    start = listed.index("load order:")
    assert [line.split()[:3] for line in listed[start + 1:start + 3]] == [
        ["1.", "base", "0.2.0"], ["2.", "forest", "0.1.0"]]

    locked = storm(home, "lock")
    assert (locked.returncode, locked.stdout) == (0, f"wrote {home / 'profile.lock'}: base 0.2.0, forest 0.1.0\n")
    assert f"lock: every pack as locked in {home / 'profile.lock'}" in storm(home, "list").stdout
    (root / "prefabs" / "tree.prefab.json").write_text('{"storm_prefab": 2, "entities": []}\n', encoding="utf-8")
    listed = storm(home, "list")
    assert listed.returncode == 0
    assert f"changed since locked ({home / 'profile.lock'}):\n" \
           "  - forest changed since it was locked: its files differ (1 file locked, 2 now)\n" in listed.stdout


def test_a_plugin_pack_gets_its_entry_file_and_new_refuses_what_it_cannot_do(home: Path, tmp_path: Path) -> None:
    made = storm(home, "new", "gizmo", "--kind", "both", "--dir", str(tmp_path / "work"))
    root = tmp_path / "work" / "gizmo"
    assert made.returncode == 0, made.stderr
    assert (root / "plugin" / "main.py").is_file() and 'entry = "plugin/main.py"' in (root / "pack.toml").read_text()
    assert storm(home, "validate", str(root)).returncode == 0
    again = storm(home, "new", "gizmo", "--dir", str(tmp_path / "work"))
    assert again.returncode == 2 and f"error: {root}: already exists; choose another id or folder" in again.stderr
    bad = storm(home, "new", "Gizmo")
    assert bad.returncode == 2
    assert "error: pack id 'Gizmo': expected lower-case letters, digits or _, starting with a letter" in bad.stderr


def test_validate_lists_every_problem_with_file_and_place(tmp_path: Path, home: Path) -> None:
    root = write_pack(tmp_path, "forest", "1.2.0", kind="both", files={
        "prefabs/ok.prefab.json": '{"storm_prefab": 2, "entities": []}',
        "prefabs/broken.prefab.json": '{"storm_prefab": 2,\n "entities": [}\n',
        "input/twice.json": '{"a": 1, "a": 2}'})
    manifest = root / "pack.toml"
    manifest.write_text(manifest.read_text() + '[plugin]\nentry = "plugin/main.py"\n', encoding="utf-8")
    checked = storm(home, "validate", str(root))
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        "forest 1.2.0: 3 problems",
        f"  - {root / 'input/twice.json'}: line 1 column 10 (a): expected each key once per object (key 'a' appears twice)",
        f"  - {root / 'prefabs/broken.prefab.json'}: line 2 column 15: expected valid JSON (Expecting value)",
        f"  - {manifest}: plugin.entry: expected a file in the pack, got 'plugin/main.py'",
    ]
    manifest.write_text('schema = 1\nid = "forest"\nversion = "1.2"\n', encoding="utf-8")
    checked = storm(home, "validate", str(root))
    assert checked.returncode == 1
    assert f"  - {manifest}: version: expected a version like '1.4.0' (SemVer: major.minor.patch), got '1.2'" \
           in checked.stdout.splitlines()


def test_list_shows_the_problems_and_lock_refuses_to_lock_them(home: Path) -> None:
    write_pack(home / "packs", "forest", "1.2.0", needs={"base": ">=0.3"})
    write_pack(home / "packs", "broken", "1.0.0")
    (home / "packs" / "broken" / "pack.toml").write_text('id = "broken"\nversion = 1\n', encoding="utf-8")
    write_profile(home / "profile.toml", ["base", "forest"])
    listed = storm(home, "list")
    assert listed.returncode == 1
    problems = listed.stdout.split("problems:\n", 1)[1].splitlines()
    assert problems == [
        f"  - {home / 'packs' / 'broken' / 'pack.toml'}: version: expected a version like '1.4.0' (SemVer: "
        "major.minor.patch), got 1",
        "  - forest 1.2.0 needs base >=0.3, but base 0.2.0 is installed",
    ]
    locked = storm(home, "lock")
    assert locked.returncode == 2 and not (home / "profile.lock").exists()
    assert "error: the enabled packs cannot load:\n" in locked.stderr
    assert "  - forest 1.2.0 needs base >=0.3, but base 0.2.0 is installed\n" in locked.stderr
