"""Benchmarks: load generators run by hand against a local server (not tests, not in CI)."""
