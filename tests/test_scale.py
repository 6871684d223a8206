"""Nothing quadratic in entity count or hierarchy depth: loading, saving, validating and closing
a world twice as big (or a parent chain twice as deep) makes about twice the function calls.

Calls are counted with ``sys.setprofile`` (Python and C functions alike), which is exact and the
same on every machine: a loop over every entity for every entity shows up as four times the
calls, whatever the machine's speed. (Times belong in tools/bench/loading.py.)"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from engine.data.world_check import check_world
from engine.data.world_file import read_world, save_world
from engine.host.runtime import Runtime
from engine.packs.sources import Budgets
from tests.conftest import write_json


def calls(action: Callable[[], Any]) -> tuple[int, Any]:
    count = 0

    def profile(_frame: Any, event: str, _arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        result = action()
    finally:
        sys.setprofile(None)
    return count, result


def wide(count: int) -> dict:
    """Crates with a mesh, in rows of 50 under row entities (a wide, shallow world)."""
    entities = []
    for row in range(count // 50):
        row_id = 1 + row * 51
        entities.append({"id": row_id, "name": f"row {row}"})
        entities += [{"id": row_id + 1 + i, "name": f"crate {row}.{i}", "parent": row_id,
                      "transform": {"pos": [i, row, 0.5], "hpr": [i * 7 % 360, 0, 0]},
                      "components": {"MeshRenderer": {"color": [0.5, 0.4, (i % 10) / 10, 1]}}} for i in range(50)]
    return {"storm_world": 3, "name": "wide", "entities": entities}


def deep(count: int) -> dict:
    return {"storm_world": 3, "name": "deep", "entities": [
        {"id": i, "name": f"link {i}", **({"parent": i - 1} if i > 1 else {}), "transform": {"pos": [0, 0, 0.1]}}
        for i in range(1, count + 1)]}


def costs(path: Path, runtime: Runtime, out: Path) -> dict[str, int]:
    load, world = calls(lambda: read_world(path, runtime))
    save, _ = calls(lambda: save_world(world, out))
    close, _ = calls(world.close)
    validate, report = calls(lambda: check_world(path, runtime))
    assert report.ok, report.problems[:3]
    return {"load": load, "save": save, "close": close, "validate": validate}


@pytest.mark.parametrize("shape", ["wide", "deep"])
def test_twice_the_world_is_twice_the_work(shape: str, tmp_path: Path, runtime: Runtime) -> None:
    runtime.content.files.budgets = Budgets(depth=5000)
    make = wide if shape == "wide" else deep
    small = costs(write_json(tmp_path / "small.world.json", make(1500)), runtime, tmp_path / "a.json")
    big = costs(write_json(tmp_path / "big.world.json", make(3000)), runtime, tmp_path / "b.json")
    ratios = {step: big[step] / small[step] for step in small}
    assert all(ratio < 2.3 for ratio in ratios.values()), ratios  # quadratic work would be near 4
