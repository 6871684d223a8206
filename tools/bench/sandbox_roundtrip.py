"""How long one world query takes from a sandboxed plugin: the plugin asks over its pipe, the host
answers from the World, the plugin has the JSON (goal: under 1 ms). A trusted (in-process) plugin
making the same query through the same ``WorldAccess`` runs beside it as the peer.

    python -m tools.bench.sandbox_roundtrip [--queries 2000]

Prints JSON lines (the last one the summary): ``sandbox_roundtrip_ms`` is the median per query
measured inside the plugin, ``host_call_ms`` a whole hook call from the host that makes one query
(two round trips: the call and the query), ``in_process_query_ms`` the trusted peer.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from engine.core.edit_commands import AddComponent
from engine.host.runtime import create_runtime
from engine.packs.manifest import read_manifest
from plugins.host import PluginHost
from tools.bench.common import emit, machine_info, progress

PLUGIN = '''
import time

def storm_cli_commands():
    return [{"name": "bench"}, {"name": "one"}]

def storm_cli_run(command, args, world):
    if command == "one":
        return str(len(world.query("Light")))
    samples = []
    for _ in range(int(args[0])):
        start = time.perf_counter()
        world.query("Light")
        samples.append(time.perf_counter() - start)
    samples.sort()
    return str(samples[len(samples) // 2] * 1000.0)
'''
MANIFEST = '''id = "{id}"
version = "1.0.0"
kind = "plugin"
[permissions]
world_read = "measures queries"
[plugin]
entry = "plugin.py"
'''


def _pack(base: Path, plugin_id: str) -> Path:
    root = base / plugin_id
    root.mkdir(parents=True)
    (root / "pack.toml").write_text(MANIFEST.format(id=plugin_id), encoding="utf-8")
    (root / "plugin.py").write_text(PLUGIN, encoding="utf-8")
    return root


def measure(queries: int = 2000) -> dict[str, float]:
    """The round-trip figures (see the module docstring), without the machine info."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        roots = [_pack(base, "sandboxed"), _pack(base, "trusted")]
        runtime = create_runtime()
        host = PluginHost([(r, read_manifest(r)) for r in roots], trusted={"trusted"}, data_root=base / "data")
        host.install(runtime)
        host.start()
        world = runtime.new_world()
        for i in range(100):
            world.apply(AddComponent(world.create_entity(f"lamp {i}"), "Light", {"kind": "point"}))
        results = {}
        for plugin_id in ("sandboxed", "trusted"):
            code, text = host.engine.run_cli(f"{plugin_id}:bench", [str(queries)])
            assert code == 0, text
            results[plugin_id] = float(text)
            progress(f"{plugin_id}: {results[plugin_id]:.4f} ms per query (median of {queries})")
        calls = []
        for _ in range(500):
            start = time.perf_counter()
            host.engine.run_cli("sandboxed:one", [])
            calls.append(time.perf_counter() - start)
        host.stop()
    return {"queries": queries, "entities": 100, "sandbox_roundtrip_ms": round(results["sandboxed"], 4),
            "host_call_ms": round(statistics.median(calls) * 1000.0, 4),
            "in_process_query_ms": round(results["trusted"], 4),
            "ratio_vs_in_process": round(results["sandboxed"] / max(results["trusted"], 1e-9), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=2000)
    options = parser.parse_args()
    emit({"benchmark": "sandbox_roundtrip", **measure(options.queries), "goal_ms": 1.0, "machine": machine_info()})


if __name__ == "__main__":
    main()
