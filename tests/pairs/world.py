"""Synthetic worlds with planted CLIP-blind pairs (shared by the mine stage's tests)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blindpairs.workspace import Workspace
from pairs.selection import pair_id
from tests.pairs.inputs import CLIP, DINO, far_tiles, unit, write_embeddings, write_tiles


@dataclass
class World:
    ids: list[str]
    clip: np.ndarray
    dino: np.ndarray
    blind: set[str]  # planted CLIP-blind pair ids
    decoys: set[str]  # CLIP-alike, DINOv2-alike pair ids


def make_world(n: int, n_blind: int, n_decoys: int, seed: int = 0, prefix: str = "t") -> World:
    """``n`` far-apart tiles with random vectors, ``n_blind`` planted pairs, ``n_decoys`` decoys."""
    rng = np.random.default_rng(seed)
    ids = [t for t, _, _ in far_tiles(prefix, n)]
    clip = unit(rng.standard_normal((n, 64)))
    dino = unit(rng.standard_normal((n, 32)))
    blind, decoys = set(), set()
    for k in range(n_blind + n_decoys):
        i, j = 2 * k, 2 * k + 1
        clip[j] = unit(clip[i] + 0.02 * (k + 1) / (n_blind + n_decoys) * rng.standard_normal(64))
        if k < n_blind:
            dino[j] = unit(-dino[i] + 0.3 * rng.standard_normal(32))
            blind.add(pair_id(ids[i], ids[j]))
        else:
            dino[j] = unit(dino[i] + 0.05 * rng.standard_normal(32))
            decoys.add(pair_id(ids[i], ids[j]))
    return World(ids, clip, dino, blind, decoys)


def write_world(
    ws: Workspace,
    world: World,
    scene: str = "s1",
    part: str = "part-0.parquet",
    prefix: str = "t",
    start: int = 0,
) -> None:
    write_tiles(ws, scene, far_tiles(prefix, len(world.ids), start))
    write_embeddings(ws, CLIP, world.ids, world.clip, part=part)
    write_embeddings(ws, DINO, world.ids, world.dino, part=part)
