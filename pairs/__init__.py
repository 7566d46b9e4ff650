"""The mine stage: find CLIP-blind pairs among embedded tiles.

``blindpairs mine`` reads tile footprints and two embedding sets (CLIP and
DINOv2), searches the CLIP vectors with FAISS for every pair at or above
``tau_clip``, keeps those whose DINOv2 similarity is below ``tau_dino``, drops
pairs of the same place, ranks and caps them, and writes
``pairs/pairs.parquet`` and ``pairs/yield.json``. Entry point:
:func:`pairs.mine.run_mine`. The search runs in this process, or as Dask tasks
on a cluster given by ``--scheduler`` (:mod:`pairs.runner`, :mod:`pairs.units`).
"""
