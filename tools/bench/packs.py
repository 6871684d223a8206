"""Benchmark: packs — resolving and mounting 200 packs with 10,000 assets, reading assets through
the registry against reading the same files directly, and a sandboxed plugin's world query.

Peers in the same run: ``open().read()`` (and ``json.loads``) of the very same files for the
registry's reads; a trusted, in-process plugin making the same query as the sandboxed one.

    .venv/bin/python -m tools.bench.packs [--packs 200] [--assets-per-pack 50] [--rounds 5]

stdout: JSON lines, the summary last. stderr: progress. A plot goes to docs/img/bench_packs.png.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, Callable

if __package__ in (None, ""):                      # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.packs.content import ContentRegistry  # noqa: E402
from engine.packs.loading import plan_content, registry_from_plan  # noqa: E402
from engine.packs.profile import Profile  # noqa: E402
from tools.bench.common import REPO_ROOT, emit, machine_info, progress, pyplot, ratio, save_figure  # noqa: E402
from tools.bench.sandbox_roundtrip import measure as sandbox_roundtrip  # noqa: E402

PLOT = REPO_ROOT / "docs" / "img" / "bench_packs.png"


def make_packs(base: Path, packs: int, assets: int) -> tuple[Path, Path]:
    """``packs`` folder packs of ``assets`` small JSON files each (every pack after the first
    depends on the one before it, so the resolver has a chain to order), and the same as zips."""
    folders, zips = base / "folders", base / "zips"
    for number in range(packs):
        root = folders / f"pack{number:03d}"
        for index in range(assets):
            path = root / f"data{index % 5}" / f"asset{index:02d}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"pack": number, "asset": index, "pad": "x" * 200}), encoding="utf-8")
        needs = f'\n[dependencies]\npack{number - 1:03d} = ">=1.0"\n' if number else ""
        (root / "pack.toml").write_text(f'schema = 1\nid = "pack{number:03d}"\nversion = "1.0.0"\n{needs}',
                                        encoding="utf-8")
    zips.mkdir()
    for root in sorted(folders.iterdir()):
        with zipfile.ZipFile(zips / f"{root.name}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(root).as_posix())
    return folders, zips


def best(fn: Callable[[], Any], rounds: int) -> float:
    """The fastest of ``rounds`` runs, in seconds (file reads: the least disturbed run)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def mount(folder: Path, packs: int) -> ContentRegistry:
    """Scan, resolve (all enabled, in dependency order) and mount every pack in ``folder``."""
    profile = Profile(enabled=[f"pack{n:03d}" for n in range(packs)])
    plan = plan_content(profile, folders=[folder])
    return registry_from_plan(plan)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packs", type=int, default=200)
    parser.add_argument("--assets-per-pack", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    packs, per_pack, rounds = args.packs, args.assets_per_pack, args.rounds
    with tempfile.TemporaryDirectory() as temp:
        progress(f"writing {packs} packs of {per_pack} assets (folders and zips)")
        folders, zips = make_packs(Path(temp), packs, per_pack)
        mounts = {}
        for label, folder in (("folders", folders), ("zips", zips)):
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                registry = mount(folder, packs)
                times.append((time.perf_counter() - start) * 1000.0)
                registry.close()
            mounts[label] = statistics.median(times)
            progress(f"resolve + mount {packs} {label}: {mounts[label]:.0f} ms (median of {rounds})")
        ids = [f"pack{p:03d}:data{a % 5}/asset{a:02d}.json" for p in range(packs) for a in range(per_pack)]
        paths = [folders / f"pack{p:03d}" / f"data{a % 5}" / f"asset{a:02d}.json"
                 for p in range(packs) for a in range(per_pack)]
        in_folders, in_zips = mount(folders, packs), mount(zips, packs)

        def direct() -> None:
            for path in paths:
                with open(path, "rb") as handle:
                    handle.read()

        def direct_json() -> None:
            for path in paths:
                with open(path, "rb") as handle:
                    json.loads(handle.read())

        reads = {"direct": direct, "registry_folders": lambda: [in_folders.read(i) for i in ids],
                 "registry_zips": lambda: [in_zips.read(i) for i in ids], "direct_json": direct_json,
                 "registry_json": lambda: [in_folders.read_json(i) for i in ids]}
        for fn in reads.values():
            fn()  # warm the page cache and the registry's indexes
        per_file = {name: best(fn, rounds) / len(ids) * 1e6 for name, fn in reads.items()}
        in_folders.close()
        in_zips.close()
        emit({"bench": "packs", "what": "reads", "files": len(ids),
              **{f"{name}_us": round(us, 2) for name, us in per_file.items()}})
    progress("a sandboxed plugin's world query (and a trusted one beside it)")
    sandbox = sandbox_roundtrip(1000)
    summary = {
        "bench": "packs", "packs": packs, "assets": packs * per_pack,
        "mount_200_packs_ms": round(mounts["folders"], 1), "mount_200_zip_packs_ms": round(mounts["zips"], 1),
        "lookup_ratio_vs_direct": ratio(per_file["registry_folders"], per_file["direct"]),
        "lookup_ratio_vs_direct_zip": ratio(per_file["registry_zips"], per_file["direct"]),
        "json_ratio_vs_direct": ratio(per_file["registry_json"], per_file["direct_json"]),
        "sandbox_roundtrip_ms": sandbox["sandbox_roundtrip_ms"],
        "in_process_query_ms": sandbox["in_process_query_ms"], "host_call_ms": sandbox["host_call_ms"],
        "goals": {"mount_200_packs_ms": 1000, "lookup_ratio_vs_direct": 2.0, "sandbox_roundtrip_ms": 1.0},
        "machine": machine_info(),
    }
    _plot(summary, per_file)
    emit(summary)
    return 0


def _plot(summary: dict[str, Any], per_file: dict[str, float]) -> None:
    plt = pyplot()
    if plt is None:
        return
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(11, 3.6))
    bars = left.bar(["folders", "zips"], [summary["mount_200_packs_ms"], summary["mount_200_zip_packs_ms"]],
                    color=["#2a6fb0", "#6a9fd4"])
    left.bar_label(bars, fmt="%.0f ms")
    left.axhline(1000, color="#c0392b", linestyle="--", linewidth=1)
    left.set_ylim(0, 1150)
    left.set_title(f"resolve + mount {summary['packs']} packs\n({summary['assets']:,} assets; goal 1 s)", fontsize=9)
    names = ["direct", "registry_folders", "registry_zips"]
    bars = middle.bar(["open().read()", "registry\n(folders)", "registry\n(zips)"], [per_file[n] for n in names],
                      color=["#999999", "#2a6fb0", "#6a9fd4"])
    middle.bar_label(bars, fmt="%.1f us")
    middle.set_ylim(0, max(per_file[n] for n in names) * 1.2)
    middle.set_title("read one asset (goal: at most 2x direct)", fontsize=9)
    bars = right.bar(["trusted\n(in process)", "sandboxed"],
                     [summary["in_process_query_ms"], summary["sandbox_roundtrip_ms"]], color=["#999999", "#2a6fb0"])
    right.bar_label(bars, fmt="%.3f ms")
    right.axhline(1.0, color="#c0392b", linestyle="--", linewidth=1)
    right.set_ylim(0, 1.15)
    right.set_title("a plugin's world query (goal 1 ms)", fontsize=9)
    figure.suptitle(f"Storm packs, {summary['machine']['cpus']} CPUs", fontsize=9)
    progress(f"plot: {save_figure(figure, PLOT)}")


if __name__ == "__main__":
    sys.exit(main())
