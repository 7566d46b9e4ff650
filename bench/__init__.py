"""Benchmarks, one module per stage verb; run from the repository root as
``python -m bench.tile``, ``python -m bench.embed`` and ``python -m bench.mine``."""
