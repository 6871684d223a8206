"""Benchmarks: each script prints JSON lines with a peer measured beside Storm in the same run."""
