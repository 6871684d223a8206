"""Developer tools: benchmarks (tools/bench) and asset generators (tools/assets)."""
