"""What loading refuses in a pack, folder or zip: each attack gets one message naming the pack,
the entry and what was expected; honest packs of both kinds read the same."""
from __future__ import annotations

import os
import pickle
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from engine.core.errors import DataError
from engine.packs.content import ContentRegistry
from engine.packs.sources import Budgets, PackRefused
from tests.pack_files import MiB, Raw, bomb_zip, folder_pack, manifest, raw_zip

GiB = 1024 * MiB


def refusal(root: Path, budgets: Budgets | None = None) -> PackRefused:
    with pytest.raises(PackRefused) as info:
        ContentRegistry(budgets).add_pack(root)
    return info.value


def zip_refusal(tmp_path: Path, entries: list[Raw], kind: str = "content") -> PackRefused:
    return refusal(raw_zip(tmp_path / "mod.zip", entries, manifest("mod", kind)))


SLIPS = [
    ("../evil.txt", "without '..'"),
    ("models/../../evil.txt", "without '..'"),
    ("/etc/passwd", "absolute"),
    ("C:/Windows/evil.dll", "no drive letters"),
    ("C:evil.txt", "no drive letters"),
    ("models\\..\\..\\evil.txt", "not a backslash"),
    ("evil.txt\x00.png", "without NUL"),
    ("models\uff0f..\uff0fevil.txt", "U+FF0F fullwidth solidus"),
    ("\u2024\u2024/evil.txt", "U+2024 one dot leader"),
    ("models\u2044..\u2044evil.txt", "U+2044 fraction slash"),
    ("\u2025/evil.txt", "U+2025 two dot leader"),
    ("./models/a.json", "without '..', '.'"),
    ("models//a.json", "empty parts"),
    ("models/" + "a" * 300 + ".json", "at most 255 bytes"),
    ("x/" * 200 + "a.json", "at most 400 characters"),
    ("models/crate.gltf.", "ending in a dot"),
    ("models/con.json", "Windows device name"),
    ("models/a\u202egnp.json", "format"),
]


@pytest.mark.parametrize("name, expected", SLIPS, ids=[repr(n)[:40] for n, _ in SLIPS])
def test_a_zip_entry_that_would_escape_or_mislead_is_refused_by_name(tmp_path: Path, name: str, expected: str) -> None:
    error = zip_refusal(tmp_path, [Raw(name, b"{}")])
    assert error.source == str(tmp_path / "mod.zip")
    assert expected in error.expected
    assert str(error).startswith(f"{tmp_path / 'mod.zip'}: ") and ": expected " in str(error)


@pytest.mark.parametrize("name, expected", [n for n in SLIPS if "\x00" not in n[0] and not n[0].startswith(("/", ".", "x/"))
                                            and "//" not in n[0] and "../" not in n[0] and "a" * 300 not in n[0]])
def test_a_folder_file_with_such_a_name_is_refused_too(tmp_path: Path, name: str, expected: str) -> None:
    root = folder_pack(tmp_path / "mod", "mod", {})
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("{}")
    error = refusal(root)
    assert error.source == str(root) and expected in error.expected


def test_a_symlink_in_a_folder_is_refused_and_a_regular_file_of_that_name_is_not(tmp_path: Path) -> None:
    secret = tmp_path / "home" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("PRIVATE KEY")
    root = folder_pack(tmp_path / "mod", "mod", {})
    (root / "prefabs").mkdir()
    (root / "prefabs" / "key.json").symlink_to(secret)
    error = refusal(root)
    assert (error.path, error.expected) == ("prefabs/key.json", "a regular file or folder, not a symbolic link")
    (root / "prefabs" / "key.json").unlink()
    (root / "prefabs" / "key.json").write_text('{"honest": true}')
    content = ContentRegistry()
    content.add_pack(root)
    assert content.read_json("mod:prefabs/key.json") == {"honest": True}


def test_a_symlinked_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.json").write_text("{}")
    root = folder_pack(tmp_path / "mod", "mod", {})
    (root / "prefabs").symlink_to(outside, target_is_directory=True)
    assert refusal(root).path == "prefabs"


def test_a_file_swapped_for_a_symlink_after_mounting_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"secret": 1}')
    root = folder_pack(tmp_path / "mod", "mod", {"prefabs/a.json": {"ok": 1}})
    content = ContentRegistry()
    content.add_pack(root)
    (root / "prefabs" / "a.json").unlink()
    (root / "prefabs" / "a.json").symlink_to(secret)
    with pytest.raises(PackRefused) as info:
        content.read_json("mod:prefabs/a.json")
    assert info.value.source == str(root / "prefabs" / "a.json") and "not a symbolic link" in info.value.expected


def test_a_hard_link_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text("{}")
    root = folder_pack(tmp_path / "mod", "mod", {})
    os.link(secret, root / "copy.json")
    error = refusal(root)
    assert error.path == "copy.json" and "hard link, one of 2 names" in error.expected


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    root = folder_pack(tmp_path / "mod", "mod", {})
    os.mkfifo(root / "world.json")
    assert "a regular file (this is a named pipe)" in refusal(root).expected


def test_a_symlink_entry_in_a_zip_is_refused(tmp_path: Path) -> None:
    error = zip_refusal(tmp_path, [Raw("prefabs/key.json", b"/home/me/.ssh/id_rsa", mode=0o120777)])
    assert (error.path, error.expected) == ("prefabs/key.json", "a regular file, not a symbolic link")


@pytest.mark.parametrize("names", [("data/a.json", "data/a.json"), ("Data/A.json", "data/a.json"),
                                   ("caf\u00e9.json", "cafe\u0301.json")], ids=["same", "case", "normalisation"])
def test_duplicate_entries_are_refused(tmp_path: Path, names: tuple[str, str]) -> None:
    error = zip_refusal(tmp_path, [Raw(names[0], b"{}"), Raw(names[1], b"[]")])
    assert error.path == names[1] and "one entry per file name" in error.expected


def test_files_differing_only_by_case_in_a_folder_are_refused(tmp_path: Path) -> None:
    root = folder_pack(tmp_path / "mod", "mod", {"Crate.json": "{}", "crate.json": "{}"})
    assert "differs from" in refusal(root).expected


def test_a_zip_bomb_that_claims_little_is_refused_after_reading_what_it_claims(tmp_path: Path) -> None:
    path = bomb_zip(tmp_path / "bomb.zip", expands_to=GiB, claim=1024, manifest_text=manifest("bomb"))
    assert path.stat().st_size < 1.1 * MiB  # deflate tops out near 1:1032, so a gigabyte takes a megabyte
    content = ContentRegistry()
    content.add_pack(path)  # the headers look harmless
    tracemalloc.start()
    try:
        with pytest.raises(PackRefused) as info:
            content.read("bomb:data/zeros.bin")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.source == f"{path}/data/zeros.bin"
    assert "inflates to the 1024 bytes its header claims" in info.value.expected
    assert peak < 8 * MiB  # a MiB chunk of compressed input at a time, never the gigabyte


def test_a_zip_bomb_that_claims_its_size_is_refused_before_any_inflating(tmp_path: Path) -> None:
    path = bomb_zip(tmp_path / "bomb.zip", expands_to=GiB, claim=GiB, manifest_text=manifest("bomb"))
    error = refusal(path)
    assert error.path == "data/zeros.bin" and f"claims {GiB} bytes" in str(error)


def test_a_read_budget_caps_real_bytes(tmp_path: Path) -> None:
    path = bomb_zip(tmp_path / "bomb.zip", expands_to=8 * MiB, claim=8 * MiB, manifest_text=manifest("bomb"))
    content = ContentRegistry(Budgets(file_bytes=16 * MiB))
    content.add_pack(path)
    with pytest.raises(DataError) as info:
        content.read("bomb:data/zeros.bin", budget=MiB)
    assert "at most 1048576 bytes (the 'file_bytes' budget; raise it with --budget file_bytes=N" in info.value.expected


def test_bzip2_entries_are_refused_since_they_cannot_be_inflated_with_a_bound(tmp_path: Path) -> None:
    import bz2

    error = zip_refusal(tmp_path, [Raw("data/zeros.bin", bz2.compress(b"\0" * 4 * MiB), method=12, claim=4 * MiB)])
    assert "a stored or deflated entry" in error.expected and error.got == "method 12"


def test_overlapping_entries_are_refused(tmp_path: Path) -> None:
    first = Raw("data/a.json", b"{}" * 100, deflate=True)
    error = zip_refusal(tmp_path, [first, Raw("data/b.json", b"{}" * 100, deflate=True, offset=len(
        manifest("mod")) + 30 + len("pack.toml"))])
    assert "do not overlap" in error.expected


def test_more_entries_than_the_budget_are_refused(tmp_path: Path) -> None:
    path = raw_zip(tmp_path / "many.zip", [Raw(f"data/{i}.json", b"{}") for i in range(20)], manifest("many"))
    assert "at most 10 files in a pack (the 'entries' budget; raise it with --budget entries=N" in refusal(path, Budgets(entries=10)).expected


def test_an_oversized_manifest_is_refused(tmp_path: Path) -> None:
    text = manifest("big", extra="#" + "x" * 70_000 + "\n")
    assert "a manifest of at most 65536 bytes" in refusal(raw_zip(tmp_path / "big.zip", [], text)).expected
    root = tmp_path / "bigfolder"
    root.mkdir()
    (root / "pack.toml").write_text(text)
    assert refusal(root).path == "pack.toml"


@pytest.mark.parametrize("name", ["scripts/door.py", "lib/native.so", "lib/libz.so.1", "bin/tool.exe", "x.dll",
                                  "run.sh", "cache/door.cpython-311.pyc"])
def test_code_files_in_a_content_pack_are_refused(tmp_path: Path, name: str) -> None:
    error = zip_refusal(tmp_path, [Raw(name, b"print('hi')")])
    assert error.path == name and "no code files in a content-only pack (pack 'mod'" in error.expected


def test_a_code_pack_may_carry_code(tmp_path: Path) -> None:
    path = raw_zip(tmp_path / "mod.zip", [Raw("scripts/door.py", b"X = 1\n")], manifest("mod", "both"))
    content = ContentRegistry()
    content.add_pack(path)
    assert content.read("mod:scripts/door.py") == b"X = 1\n"


def test_a_program_renamed_to_data_is_refused_when_read_from_a_content_pack(tmp_path: Path) -> None:
    elf = b"\x7fELF\x02\x01\x01" + bytes(57)
    root = folder_pack(tmp_path / "mod", "mod", {"terrain/height.png": elf})
    content = ContentRegistry()
    content.add_pack(root)
    with pytest.raises(PackRefused) as info:
        content.read("mod:terrain/height.png")
    assert "not an ELF program or library" in info.value.expected


@pytest.mark.parametrize("kind", ["content", "both"])
def test_pickle_files_are_refused_in_every_pack(tmp_path: Path, kind: str) -> None:
    error = zip_refusal(tmp_path, [Raw("saves/state.pkl", b"whatever")], kind=kind)
    assert error.path == "saves/state.pkl" and "no pickle files in a pack" in error.expected


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_pickle_data_under_another_name_is_refused_when_read(tmp_path: Path, protocol: int) -> None:
    data = pickle.dumps({"looks": ["like", "data"]}, protocol=protocol)
    root = folder_pack(tmp_path / "mod", "mod", {"prefabs/lamp.prefab.json": data, "models/x.bin": b"\x80\x02" + bytes(30)},
                       kind="both")
    content = ContentRegistry()
    content.add_pack(root)
    with pytest.raises(PackRefused) as info:
        content.read_json("mod:prefabs/lamp.prefab.json")
    assert info.value.source == str(root / "prefabs" / "lamp.prefab.json") and "no pickle data" in info.value.expected
    assert len(content.read("mod:models/x.bin")) == 32  # a buffer that merely starts like one is data


def test_a_zip_and_a_folder_of_the_same_pack_read_alike(tmp_path: Path) -> None:
    files = {"prefabs/a.json": {"n": 1}, "models/b.bin": bytes(range(256)) * 40, "caf\u00e9/x.txt": "hello"}
    root = folder_pack(tmp_path / "mod", "mod", files)
    with zipfile.ZipFile(tmp_path / "mod.zip", "w") as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix(), zipfile.ZIP_DEFLATED)
    folder, zipped = ContentRegistry(), ContentRegistry()
    folder.add_pack(root)
    zipped.add_pack(tmp_path / "mod.zip")
    for name in files:
        assert folder.read(f"mod:{name}") == zipped.read(f"mod:{name}")
    assert zipped.display("mod:prefabs/a.json") == f"{tmp_path / 'mod.zip'}/prefabs/a.json"
    assert zipped.stamp("mod:prefabs/a.json") != zipped.stamp("mod:models/b.bin")


def test_a_damaged_entry_is_named(tmp_path: Path) -> None:
    path = raw_zip(tmp_path / "mod.zip", [Raw("data/a.json", b'{"a": 1}', claim=3)], manifest("mod"))
    with pytest.raises(PackRefused) as info:  # stored entries must be as long as they claim
        ContentRegistry().add_pack(path)
    assert info.value.path == "data/a.json"
    raw = bytearray(raw_zip(tmp_path / "crc.zip", [Raw("data/a.json", b'{"a": 1}', deflate=True)],
                            manifest("crc")).read_bytes())
    at = raw.index(b"data/a.json") + len(b"data/a.json")  # the entry's deflate data follows its local name
    raw[at:at + 2] = b"\xff\xff"  # a reserved block type: not deflate any more
    (tmp_path / "crc.zip").write_bytes(bytes(raw))
    content = ContentRegistry()
    content.add_pack(tmp_path / "crc.zip")
    with pytest.raises(DataError) as damaged:
        content.read("crc:data/a.json")
    assert damaged.value.source == f"{tmp_path / 'crc.zip'}/data/a.json" and "valid deflate data" in damaged.value.expected


def test_a_second_pack_with_the_same_id_is_refused_and_its_zip_let_go(tmp_path: Path) -> None:
    content = ContentRegistry()
    content.add_pack(folder_pack(tmp_path / "mod", "mod", {}))
    with pytest.raises(DataError) as info:
        content.add_pack(raw_zip(tmp_path / "mod.zip", [], manifest("mod")))
    assert (info.value.source, info.value.path) == (f"{tmp_path / 'mod.zip'}/pack.toml", "id")
    assert "a pack id not already used ('mod' is)" in info.value.expected
    assert [p.root for p in content.packs()] == [tmp_path / "mod"]
