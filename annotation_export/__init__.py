"""annotation_export stage: Label Studio round trip and publishing the benchmark.

``export`` writes the candidate pairs as Label Studio tasks (optionally pushed to a
running server); ``ingest`` validates finished annotations and publishes
``<workspace>/benchmark/`` in three formats.
"""
