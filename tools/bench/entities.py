"""Entities benchmark: per-frame CPU time of scripted entities, Storm beside its peers.

Every entity moves its NodePath ``+0.01`` along X each frame: in Storm through a Behaviour's
``on_update`` driven by ``App(mode="headless").step``, in raw Panda3D through one task that moves
all nodes, in Ursina 7 through each Entity's ``update()``. All three run with
``window-type none`` (nothing is rendered), each in its own process. A second part times one
full pass of a cached two-component query: Storm's ``world.query`` against
``esper.get_components`` on the same data.

Usage (from the repository root)::

    .venv/bin/python -m tools.bench.entities            # 1k, 2k, 5k, 10k entities, 3 rounds (~3.5 min)
    .venv/bin/python -m tools.bench.entities --quick    # 1k and 10k, fewer frames (~45 s)

stdout: one JSON line per measurement, then the summary JSON object as the last line.
stderr: progress. See docs/benchmarks.md for what each number means.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.bench.common import emit, machine_info, progress, pyplot, ratio, run_worker, save_figure  # noqa: E402

WORKER = "tools.bench.entity_peers"
FRAME_PEERS = ("raw_panda3d", "storm", "ursina")
QUERY_PEERS = ("esper_query", "storm_query")
URSINA_FALLBACK = "ursina_offscreen"
GOAL_VS_URSINA = 0.35
GOAL_VS_RAW = 1.15
GOAL_VS_ESPER = 1.0
DEFAULT_PLOT = Path("out/bench_entities.png")


def size_label(count: int) -> str:
    """``10000`` -> ``10k``; counts that are not whole thousands stay as digits."""
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.entities", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k only, fewer frames (about a minute)")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], help="entity counts, comma-separated")
    parser.add_argument("--rounds", type=int, help="how many times each peer runs (interleaved); medians are taken")
    parser.add_argument("--warmup", type=int, help="untimed frames before measuring")
    parser.add_argument("--frames", type=int, help="timed frames per run")
    parser.add_argument("--query-size", type=int, default=10_000, help="entities in the query benchmark")
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT, help="PNG to write (default %(default)s)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = args.sizes or ([1_000, 10_000] if quick else [1_000, 2_000, 5_000, 10_000])
    args.rounds = args.rounds or 3
    args.warmup = args.warmup if args.warmup is not None else (10 if quick else 20)
    args.frames = args.frames or (60 if quick else 200)
    args.query_passes = 200 if quick else 1_000
    return args


def run_peer(peer: str, count: int, warmup: int, frames: int, round_index: int) -> dict[str, Any]:
    """One worker run; failures become a result with an ``error`` so the other peers still run."""
    progress(f"round {round_index + 1}: {peer} x {count} ...")
    started = time.perf_counter()
    try:
        result = run_worker(WORKER, [peer, str(count), str(warmup), str(frames)])
    except Exception as exc:  # noqa: BLE001 - one broken peer must not lose the others' numbers
        result = {"peer": peer, "entities": count, "error": str(exc)}
    result["round"] = round_index + 1
    emit(result)
    if "error" in result:
        progress(f"  {peer} failed: {result['error'].splitlines()[0]}")
    else:
        progress(f"  {result['cpu_ms']:.3f} ms CPU (median) in {time.perf_counter() - started:.1f} s")
    return result


def run_all(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Frame peers for every size, then the query peers; peer order alternates between rounds."""
    results: list[dict[str, Any]] = []
    ursina_peer = "ursina"
    for round_index in range(args.rounds):
        order = FRAME_PEERS if round_index % 2 == 0 else tuple(reversed(FRAME_PEERS))
        for count in args.sizes:
            for peer in order:
                chosen = ursina_peer if peer == "ursina" else peer
                result = run_peer(chosen, count, args.warmup, args.frames, round_index)
                if chosen == "ursina" and "error" in result:
                    progress("  Ursina failed with window_type='none'; falling back to offscreen")
                    ursina_peer = URSINA_FALLBACK
                    result = run_peer(ursina_peer, count, args.warmup, args.frames, round_index)
                results.append(result)
        for peer in QUERY_PEERS if round_index % 2 == 0 else tuple(reversed(QUERY_PEERS)):
            results.append(run_peer(peer, args.query_size, 20, args.query_passes, round_index))
    return results


def median_ms(results: list[dict[str, Any]], peer: str, count: int, key: str = "cpu_ms") -> float | None:
    """Median over rounds of the per-run median CPU ms (or another figure); None when the peer never succeeded."""
    values = [r[key] for r in results if r["peer"] == peer and r["entities"] == count and "error" not in r]
    return round(statistics.median(values), 3) if values else None


def per_round_ratios(results: list[dict[str, Any]], peer: str, other: str, count: int) -> list[float | None]:
    """``peer / other`` within each round: shows how much of a ratio is this machine's noise."""
    rounds = sorted({r["round"] for r in results})
    return [ratio(*(next((r["cpu_ms"] for r in results if r["peer"] == p and r["entities"] == count
                          and r["round"] == n and "error" not in r), None) for p in (peer, other)))
            for n in rounds]


def ursina_name(results: list[dict[str, Any]]) -> str:
    return URSINA_FALLBACK if any(r["peer"] == URSINA_FALLBACK for r in results) else "ursina"


def summarize(args: argparse.Namespace, results: list[dict[str, Any]], plot: str | None) -> dict[str, Any]:
    """The last stdout line: headline figures at each size, ratios, and whether each goal is met."""
    ursina = ursina_name(results)
    summary: dict[str, Any] = {"bench": "entities", "render": "none",
                               "ursina_window_type": "offscreen" if ursina == URSINA_FALLBACK else "none",
                               "metric": "median CPU ms per frame (time.process_time), median over rounds",
                               "quick": args.quick, "rounds": args.rounds, "warmup": args.warmup,
                               "frames": args.frames}
    for count in args.sizes:
        label = size_label(count)
        storm, raw, urs = (median_ms(results, p, count) for p in ("storm", "raw_panda3d", ursina))
        summary[f"storm_ms_{label}"] = storm
        summary[f"ursina_ms_{label}"] = urs
        summary[f"raw_panda3d_ms_{label}"] = raw
        summary[f"ratio_vs_ursina_{label}"] = ratio(storm, urs)
        summary[f"ratio_vs_raw_{label}"] = ratio(storm, raw)
    query_label = size_label(args.query_size)
    storm_query = median_ms(results, "storm_query", args.query_size)
    esper_query = median_ms(results, "esper_query", args.query_size)
    summary[f"storm_query_ms_{query_label}"] = storm_query
    summary[f"esper_query_ms_{query_label}"] = esper_query
    summary["ratio_vs_esper_query"] = ratio(storm_query, esper_query)
    largest = size_label(max(args.sizes))
    summary[f"ratio_vs_raw_{largest}_per_round"] = per_round_ratios(results, "storm", "raw_panda3d", max(args.sizes))
    same_process = [r["same_process"]["ratio"] for r in results
                    if r["peer"] == "storm" and r["entities"] == max(args.sizes) and "same_process" in r]
    summary[f"ratio_vs_raw_{largest}_same_process"] = round(statistics.median(same_process), 3) if same_process else None
    summary[f"ratio_vs_ursina_{largest}_per_round"] = per_round_ratios(results, "storm", ursina, max(args.sizes))
    summary["ratio_vs_esper_query_per_round"] = per_round_ratios(results, "storm_query", "esper_query", args.query_size)
    summary[f"create_us_per_entity_{largest}"] = {
        peer: median_ms(results, peer, max(args.sizes), key="create_us_per_entity") for peer in ("storm", "raw_panda3d", ursina)}
    checks = {f"ratio_vs_ursina_{largest} <= {GOAL_VS_URSINA}": (summary[f"ratio_vs_ursina_{largest}"], GOAL_VS_URSINA),
              f"ratio_vs_raw_{largest} <= {GOAL_VS_RAW}": (summary[f"ratio_vs_raw_{largest}"], GOAL_VS_RAW),
              f"ratio_vs_esper_query <= {GOAL_VS_ESPER}": (summary["ratio_vs_esper_query"], GOAL_VS_ESPER)}
    summary["goals_met"] = {name: (value is not None and value <= goal) for name, (value, goal) in checks.items()}
    summary["failed_runs"] = sum(1 for r in results if "error" in r)
    summary["plot"] = plot
    summary["machine"] = machine_info()
    return summary


def write_plot(path: Path, args: argparse.Namespace, results: list[dict[str, Any]], summary: dict[str, Any]) -> str | None:
    """Frame time against entity count for the three frame peers, and the query pass as bars."""
    plt = pyplot()
    if plt is None:
        return None
    ursina = ursina_name(results)
    figure, (frames_axis, query_axis) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [2, 1]})
    for peer, label, style in (("storm", "Storm (Behaviour per entity)", "o-"),
                               ("raw_panda3d", "raw Panda3D (one task)", "s--"),
                               (ursina, "Ursina 7.0.0 (update per entity)", "^-")):
        points = [(n, median_ms(results, peer, n)) for n in args.sizes]
        points = [(n, ms) for n, ms in points if ms is not None]
        if points:
            frames_axis.plot([n for n, _ in points], [ms for _, ms in points], style, label=label)
    largest = max(args.sizes)
    frames_axis.set_title(f"CPU ms per frame, nothing rendered (Storm/raw at {size_label(largest)}: "
                          f"{summary[f'ratio_vs_raw_{size_label(largest)}']}x)", fontsize=10)
    frames_axis.set_xlabel("entities, each moving its NodePath every frame")
    frames_axis.set_ylabel("median CPU ms / frame")
    frames_axis.grid(alpha=0.3)
    frames_axis.legend()
    label = size_label(args.query_size)
    values = [summary[f"storm_query_ms_{label}"] or 0.0, summary[f"esper_query_ms_{label}"] or 0.0]
    bars = query_axis.bar(["Storm world.query", "esper.get_components"], values, color=["tab:blue", "tab:gray"])
    query_axis.bar_label(bars, fmt="%.3f ms")
    query_axis.set_title(f"cached 2-component query, {label} entities", fontsize=10)
    query_axis.set_ylabel("median CPU ms / pass")
    return save_figure(figure, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    progress(f"sizes {args.sizes}, {args.rounds} round(s), {args.warmup} warm-up + {args.frames} timed frames")
    results = run_all(args)
    summary = summarize(args, results, None)
    summary["plot"] = write_plot(args.plot, args, results, summary)
    summary["total_s"] = round(time.perf_counter() - started, 1)
    progress(f"done in {summary['total_s']} s")
    emit(summary)
    return 0 if summary["failed_runs"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
