"""Benchmarks: scripts that print their figures (run on demand, never in the test suite)."""
