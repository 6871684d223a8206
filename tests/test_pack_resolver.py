"""The resolver as a modder meets it: the load order (dependencies first, then depth, then id;
load_after and present optional dependencies respected), and every reason packs cannot load as a
plain sentence naming the packs and versions, all of them reported together."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.packs.discovery import AvailablePack, FolderReader, scan_packs
from engine.packs.manifest import parse_manifest
from engine.packs.resolver import ResolveError, plan_load_order, resolve
from tests.pack_helpers import REPO_CONTENT, write_pack


def order_of(folders: list[Path], enabled: list[str]) -> list[str]:
    return [pack.id for pack in resolve(scan_packs(folders).packs, enabled)]


def problems_of(folders: list[Path], enabled: list[str], engine: str = "1.0") -> list[str]:
    with pytest.raises(ResolveError) as caught:
        resolve(scan_packs(folders).packs, enabled, engine)
    return caught.value.problems


def test_dependencies_load_first_then_by_depth_then_id(tmp_path: Path) -> None:
    write_pack(tmp_path, "castle", needs={"base": ">=0.2", "walls": "*"})
    write_pack(tmp_path, "walls", needs={"base": ">=0.1"})
    write_pack(tmp_path, "aardvark", needs={"castle": "^1"})
    write_pack(tmp_path, "music")
    write_pack(tmp_path, "zoo")
    enabled = ["zoo", "aardvark", "castle", "walls", "music", "base"]
    # depth 0: base, music, zoo; 1: walls; 2: castle; 3: aardvark
    assert order_of([REPO_CONTENT, tmp_path], enabled) == ["base", "music", "zoo", "walls", "castle", "aardvark"]
    assert order_of([REPO_CONTENT, tmp_path], list(reversed(enabled))) == [
        "base", "music", "zoo", "walls", "castle", "aardvark"]


def test_an_unrelated_pack_does_not_reorder_the_others(tmp_path: Path) -> None:
    write_pack(tmp_path, "walls", needs={"base": "*"})
    write_pack(tmp_path, "castle", needs={"walls": "*"})
    before = order_of([REPO_CONTENT, tmp_path], ["base", "walls", "castle"])
    write_pack(tmp_path, "birds")
    after = order_of([REPO_CONTENT, tmp_path], ["base", "walls", "castle", "birds"])
    assert [p for p in after if p != "birds"] == before == ["base", "walls", "castle"]


def test_load_after_and_present_optional_dependencies_order_packs(tmp_path: Path) -> None:
    write_pack(tmp_path, "alpha", load_after=["omega"])
    write_pack(tmp_path, "beta", optional={"zeta": "*"})
    write_pack(tmp_path, "omega")
    write_pack(tmp_path, "zeta")
    assert order_of([tmp_path], ["alpha", "beta", "omega", "zeta"]) == ["omega", "zeta", "alpha", "beta"]
    # absent (disabled) packs named by load_after or optional change nothing and are no problem
    assert order_of([tmp_path], ["alpha", "beta"]) == ["alpha", "beta"]


def test_a_missing_dependency_names_both_packs_and_the_range(tmp_path: Path) -> None:
    write_pack(tmp_path, "forest", "1.2.0", needs={"weather": ">=0.3"})
    assert problems_of([tmp_path], ["forest"]) == ["forest 1.2.0 needs weather >=0.3, which is not installed"]


def test_a_disabled_dependency_is_named_as_disabled(tmp_path: Path) -> None:
    write_pack(tmp_path, "forest", "1.2.0", needs={"weather": "^0.3"})
    write_pack(tmp_path, "weather", "0.3.1")
    assert problems_of([tmp_path], ["forest"]) == ["forest 1.2.0 needs weather ^0.3, which is disabled"]


def test_a_version_mismatch_names_the_installed_version(tmp_path: Path) -> None:
    write_pack(tmp_path, "forest", "1.2.0", needs={"base": ">=0.3"})
    assert problems_of([REPO_CONTENT, tmp_path], ["base", "forest"]) == [
        "forest 1.2.0 needs base >=0.3, but base 0.2.0 is installed"]


def test_an_optional_dependency_that_is_present_must_fit_its_range(tmp_path: Path) -> None:
    write_pack(tmp_path, "forest", "1.2.0", optional={"weather": "^0.3"})
    write_pack(tmp_path, "weather", "0.2.0")
    assert order_of([tmp_path], ["forest"]) == ["forest"]  # absent: fine
    assert problems_of([tmp_path], ["forest", "weather"]) == [
        "forest 1.2.0 can use weather ^0.3, but weather 0.2.0 is installed"]


def test_an_incompatible_pair_gives_the_reason_from_the_manifest(tmp_path: Path) -> None:
    write_pack(tmp_path, "forest", "1.2.0", incompatible={"old_forest": "forest replaces it; disable old_forest"})
    write_pack(tmp_path, "old_forest", "0.9.0")
    assert order_of([tmp_path], ["forest"]) == ["forest"]
    assert problems_of([tmp_path], ["forest", "old_forest"]) == [
        "forest 1.2.0 cannot be used together with old_forest 0.9.0: forest replaces it; disable old_forest"]


def test_an_engine_api_range_that_is_not_met(tmp_path: Path) -> None:
    write_pack(tmp_path, "future", "3.0.0", engine=">=2.0")
    assert problems_of([tmp_path], ["future"]) == ["future 3.0.0 needs engine API >=2.0, but this engine's API is 1.0"]
    assert order_of([REPO_CONTENT], ["base"]) == ["base"]  # base's own "^1.0" holds for this engine


def test_a_cycle_is_spelled_out_in_order(tmp_path: Path) -> None:
    write_pack(tmp_path, "b", needs={"c": "*"})
    write_pack(tmp_path, "c", load_after=["a"])
    write_pack(tmp_path, "a", needs={"b": "*"})
    write_pack(tmp_path, "d", needs={"a": "*"})  # waits on the cycle: not ordered, not blamed
    write_pack(tmp_path, "x", needs={"y": "*"})
    write_pack(tmp_path, "y", needs={"x": "*"})
    write_pack(tmp_path, "free")
    assert problems_of([tmp_path], ["a", "b", "c", "d", "x", "y", "free"]) == [
        "dependency cycle: a -> b -> c -> a (each needs the next one loaded first)",
        "dependency cycle: x -> y -> x (each needs the next one loaded first)"]
    plan = plan_load_order(scan_packs([tmp_path]).packs, ["a", "b", "c", "d", "x", "y", "free"])
    assert [p.id for p in plan.order] == ["free"] and plan.unordered == ["a", "b", "c", "d", "x", "y"]


def test_two_folders_with_one_id_are_both_named(tmp_path: Path) -> None:
    first = write_pack(tmp_path / "one", "forest", "1.2.0")
    second = write_pack(tmp_path / "two", "forest", "1.3.0", dirname="forest_copy")
    assert problems_of([tmp_path / "one", tmp_path / "two"], ["forest"]) == [
        f"2 packs have the id forest: {first} (1.2.0) and {second} (1.3.0); keep one of them"]


def test_a_pack_enabled_but_not_installed_and_a_reserved_id(tmp_path: Path) -> None:
    where = write_pack(tmp_path, "primitive", "1.0.0")
    assert problems_of([tmp_path], ["ghost"]) == [
        f"primitive 1.0.0 ({where}) has the id primitive, which Storm keeps for its built-in shapes; choose another id",
        "the profile enables ghost, which is not installed"]


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    write_pack(tmp_path, "forest", "1.2.0", needs={"base": ">=0.3", "weather": "*"},
               incompatible={"old_forest": "forest replaces it"})
    write_pack(tmp_path, "old_forest", "0.9.0", engine="^2")
    write_pack(tmp_path, "p", needs={"q": "*"})
    write_pack(tmp_path, "q", needs={"p": "*"})
    enabled = ["base", "forest", "old_forest", "p", "q"]
    expected = [
        "forest 1.2.0 needs base >=0.3, but base 0.2.0 is installed",
        "forest 1.2.0 needs weather *, which is not installed",
        "forest 1.2.0 cannot be used together with old_forest 0.9.0: forest replaces it",
        "old_forest 0.9.0 needs engine API ^2, but this engine's API is 1.0",
        "dependency cycle: p -> q -> p (each needs the next one loaded first)",
    ]
    assert problems_of([REPO_CONTENT, tmp_path], enabled) == expected
    with pytest.raises(ResolveError) as caught:
        resolve(scan_packs([REPO_CONTENT, tmp_path]).packs, enabled)
    assert str(caught.value) == "the enabled packs cannot load:\n" + "\n".join(f"  - {p}" for p in expected)


def _manifest_pack(pack_id: str, needs: list[str]) -> AvailablePack:
    """A pack known by its manifest alone (resolving reads nothing else)."""
    deps = "".join(f'{d} = "*"\n' for d in needs)
    text = f'schema = 1\nid = "{pack_id}"\nversion = "1.0.0"\n[dependencies]\n{deps}'
    return AvailablePack(parse_manifest(text.encode(), f"{pack_id}/pack.toml"), Path(pack_id), FolderReader())


def test_long_chains_and_long_cycles_resolve_without_recursion() -> None:
    ids = [f"p{i:05d}" for i in range(5000)]
    chain = [_manifest_pack(pid, [ids[i - 1]] if i else []) for i, pid in enumerate(ids)]
    plan = plan_load_order(list(reversed(chain)), ids)
    assert [p.id for p in plan.order] == ids and plan.depth[ids[-1]] == 4999
    loop = [_manifest_pack(pid, [ids[i - 1]]) for i, pid in enumerate(ids)]  # p00000 needs p04999
    (problem,) = plan_load_order(loop, ids).problems
    assert problem.startswith("dependency cycle: p00000 -> p04999 -> p04998 -> ") and problem.count("->") == 5000
