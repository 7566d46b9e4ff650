"""blindpairs: mine CLIP-blind pairs from satellite imagery (RSMMVP / MMVP).

The shared core lives here (schemas, workspace, config, CLI); each stage is its
own top-level package (``mining`` tiles, ``embeddings``, ``pairs``,
``annotation_export``, ``evaluation``) and talks to the others only through the
workspace files described in :mod:`blindpairs.schemas`.
"""

__version__ = "0.1.0"
