"""The tile stage: satellite scenes -> georeferenced GeoParquet tiles."""
