"""Benchmarks; each figure is compared with a baseline timed in the same run."""
