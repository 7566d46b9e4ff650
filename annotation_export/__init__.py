"""annotation_export stage."""
