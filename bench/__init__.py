"""Benchmark harness and synthetic data generator (not part of the test run).

``python -m bench.generate`` writes synthetic Bigtent records; ``python -m bench.run``
measures a validated ``bigtent load`` against a raw pyoxigraph ``bulk_load``.
See bench/README.md.
"""
