"""pairs stage."""
