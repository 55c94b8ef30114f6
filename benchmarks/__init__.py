"""Benchmarks for Dunwell's performance targets; `make bench` runs them (see README.md here)."""
