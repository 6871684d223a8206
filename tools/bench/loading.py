"""Benchmark: loading at scale — validate, load and close of 10k- and 100k-entity worlds, peak
memory per MB of world file, and a model loaded cold against from the import cache.

Each size runs in a fresh worker process (its peak memory is its own). The peer for loading is
the raw Panda3D floor of the same file (``json.load`` + a node with its transform per entity,
see tools/bench/world_state.py), measured in the same worker.

    .venv/bin/python -m tools.bench.loading [--sizes 10000,100000]

stdout: one JSON object per size, the summary last. stderr: progress. A plot goes to
docs/img/bench_loading.png.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):                      # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.bench.common import (  # noqa: E402
    REPO_ROOT,
    emit,
    machine_info,
    progress,
    pyplot,
    ratio,
    report_result,
    run_worker,
    save_figure,
)

PLOT = REPO_ROOT / "docs" / "img" / "bench_loading.png"


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def worker(count: int) -> dict[str, Any]:
    """In a fresh process: write the world, then time validate, load, save and close; the peak
    memory of the load over what the process held before it."""
    from engine.data.world_check import check_world
    from engine.data.world_file import read_world, save_world
    from engine.host.runtime import create_runtime
    from tools.bench.world_state import raw_load, world_file

    runtime = create_runtime()
    with tempfile.TemporaryDirectory() as folder:
        path = world_file(Path(folder) / "big.world.json", count)
        file_mb = path.stat().st_size / 1e6
        read_world(world_file(Path(folder) / "small.world.json", 100), runtime).close()  # warm caches, imports
        before = _rss_mb()
        start = time.perf_counter()
        world = read_world(path, runtime)
        load_s = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        start = time.perf_counter()
        save_world(world, Path(folder) / "saved.world.json")
        save_s = time.perf_counter() - start
        start = time.perf_counter()
        world.close()
        close_s = time.perf_counter() - start
        start = time.perf_counter()
        report = check_world(path, runtime)
        validate_s = time.perf_counter() - start
        start = time.perf_counter()
        root = raw_load(path)
        raw_s = time.perf_counter() - start
        root.removeNode()
    return {"entities": count, "file_mb": round(file_mb, 2), "load_s": round(load_s, 3), "save_s": round(save_s, 3),
            "close_s": round(close_s, 3), "validate_s": round(validate_s, 3), "validate_ok": report.ok,
            "raw_load_s": round(raw_s, 3), "peak_mb": round(peak_mb - before, 1),
            "peak_mb_per_file_mb": round((peak_mb - before) / file_mb, 1)}


def model_cache_figures() -> dict[str, Any] | None:
    """Model load cold against from the import cache, when the import cache exists."""
    try:
        from engine.packs.model_cache import measure_model_cache  # type: ignore[attr-defined]
    except ImportError:
        return None
    return measure_model_cache()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        report_result(worker(args.worker))
        return 0
    results = {}
    for count in (int(s) for s in args.sizes.split(",")):
        progress(f"{count} entities (a worker process)")
        results[count] = run_worker("tools.bench.loading", ["--worker", str(count)], timeout_s=900)
        emit({"bench": "loading", **results[count]})
    largest = results[max(results)]
    summary: dict[str, Any] = {"bench": "loading", "sizes": sorted(results)}
    for count, result in sorted(results.items()):
        tag = f"{count // 1000}k"
        summary.update({f"load_{tag}_s": result["load_s"], f"close_{tag}_s": result["close_s"],
                        f"save_{tag}_s": result["save_s"], f"validate_{tag}_s": result["validate_s"],
                        f"raw_load_{tag}_s": result["raw_load_s"],
                        f"load_ratio_vs_raw_{tag}": ratio(result["load_s"], result["raw_load_s"])})
    summary["peak_mb_per_file_mb"] = largest["peak_mb_per_file_mb"]
    cache = model_cache_figures()
    if cache is not None:
        summary.update(cache)
    summary["goals"] = {"load_100k_s": "seconds, not minutes", "peak_mb_per_file_mb": 20}
    summary["machine"] = machine_info()
    _plot(results, summary)
    emit(summary)
    return 0


def _plot(results: dict[int, dict[str, Any]], summary: dict[str, Any]) -> None:
    plt = pyplot()
    if plt is None:
        return
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    steps = ["raw_load_s", "load_s", "validate_s", "save_s", "close_s"]
    labels = ["raw Panda3D\nfloor", "load", "validate", "save", "close"]
    width = 0.8 / len(results)
    for number, (count, result) in enumerate(sorted(results.items())):
        xs = [i + number * width for i in range(len(steps))]
        bars = left.bar(xs, [result[s] for s in steps], width, label=f"{count:,} entities")
        left.bar_label(bars, fmt="%.1f", fontsize=7)
    left.set_xticks([i + width * (len(results) - 1) / 2 for i in range(len(steps))], labels, fontsize=8)
    left.set_ylabel("seconds")
    left.legend(fontsize=8)
    left.set_title("a world of crates with meshes", fontsize=9)
    sizes = sorted(results)
    bars = right.bar([f"{c:,}" for c in sizes], [results[c]["peak_mb_per_file_mb"] for c in sizes], color="#2a6fb0")
    right.bar_label(bars, fmt="%.1fx")
    right.axhline(20, color="#c0392b", linestyle="--", linewidth=1)
    right.set_title("peak memory of a load / file size (goal 20x)", fontsize=9)
    right.set_ylim(0, max(25, max(results[c]["peak_mb_per_file_mb"] for c in sizes) * 1.2))
    figure.suptitle(f"Storm loading, {summary['machine']['cpus']} CPUs", fontsize=9)
    progress(f"plot: {save_figure(figure, PLOT)}")


if __name__ == "__main__":
    sys.exit(main())
