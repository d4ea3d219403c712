"""Benchmarks (``python -m bench.<name>``): timings printed for people, never run by pytest."""
