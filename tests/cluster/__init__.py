"""Tests against a real Dask cluster (scheduler and workers as separate processes)."""
