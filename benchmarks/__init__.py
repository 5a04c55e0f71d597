"""Benchmarks: scripts that print figures (``--json`` for JSON, ``--quick`` for a smoke run).

Run one as a module from the repository root, e.g. ``python -m benchmarks.bench_import``.
Speed is measured here, never asserted in the test suite.
"""
