"""Large workspaces: embeddings read batch by batch, CLIP held as float16, DINOv2 not held.

The streamed path (forced here by a hold limit of 0 tiles) must give the same
pairs and the same similarities, bit for bit, as the float32 path.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from pyarrow import parquet as pq

from blindpairs.workspace import Workspace
from pairs import inputs as inputs_mod
from pairs import rows as rows_mod
from pairs.candidates import SearchOptions, SearchVectors, Thresholds, find_candidates
from pairs.faiss_import import import_faiss
from pairs.inputs import load_inputs
from pairs.mine import run_mine
from pairs.pairset import rowwise_dot
from pairs.params import MineParams
from pairs.rows import PartRows, pair_dots
from pairs.search_plan import SearchPlan
from pairs.units import FP16_SLACK
from pairs.vector_hash import row_hashes
from pairs.vector_parts import VectorParts
from tests.pairs.inputs import CLIP, DINO, far_tiles, unit, write_embeddings, write_tiles
from tests.pairs.world import make_world

TINY = MineParams(encoders="tiny")


def _write_shuffled(ws: Workspace, n: int = 300, parts: int = 4) -> tuple[list[str], dict]:
    """A world whose embeddings are split over ``parts`` parts in a shuffled order."""
    world = make_world(n, n_blind=6, n_decoys=3)
    write_tiles(ws, "s1", far_tiles("t", n))
    order = np.random.default_rng(5).permutation(n)
    for enc, x in ((CLIP, world.clip), (DINO, world.dino)):
        for k, chunk in enumerate(np.array_split(order, parts)):
            ids = [world.ids[i] for i in chunk]
            write_embeddings(ws, enc, ids, x[chunk], part=f"part-{k}.parquet")
    return world.ids, {"clip": world.clip, "dino": world.dino, "blind": world.blind}


def test_streamed_inputs_hold_no_dinov2_matrix_and_clip_as_float16(ws: Workspace) -> None:
    ids, world = _write_shuffled(ws)
    held = load_inputs(ws, CLIP, DINO, hold_max=10**9)
    streamed = load_inputs(ws, CLIP, DINO, hold_max=0)
    assert held.tile_ids == streamed.tile_ids == sorted(ids)
    assert isinstance(held.clip.vectors, np.ndarray) and held.clip.vectors.dtype == np.float32
    dino, clip = streamed.dino.vectors, streamed.clip.vectors
    assert isinstance(dino, PartRows) and dino.held is None  # no DINOv2 matrix in memory
    assert isinstance(clip, PartRows) and clip.held is not None
    assert clip.held.dtype == np.float16 and clip.held.shape == held.clip.vectors.shape
    np.testing.assert_array_equal(clip.held, held.clip.vectors.astype(np.float16))
    # rows read back from the parts are the held float32 rows, bit for bit
    pick = np.array([7, 0, 299, 7, 150])
    np.testing.assert_array_equal(dino[pick], held.dino.vectors[pick])
    np.testing.assert_array_equal(clip[pick], held.clip.vectors[pick])
    # the hashes (the candidate cache's key) do not depend on the path
    np.testing.assert_array_equal(streamed.dino.hashes, held.dino.hashes)
    np.testing.assert_array_equal(held.clip.hashes, row_hashes(held.clip.vectors))


def test_rows_in_file_order_are_held_as_numpys_float16(ws: Workspace) -> None:
    world = make_world(300, n_blind=6, n_decoys=3)
    write_tiles(ws, "s1", far_tiles("t", 300))
    for enc, x in ((CLIP, world.clip), (DINO, world.dino)):
        write_embeddings(ws, enc, world.ids, x)  # one part, tile order: rows land by slice
    held = load_inputs(ws, CLIP, DINO, hold_max=10**9).clip.vectors
    clip = load_inputs(ws, CLIP, DINO, hold_max=0).clip.vectors
    assert isinstance(clip, PartRows) and clip.held is not None
    want = held.astype(np.float16)
    np.testing.assert_array_equal(clip.held.view(np.uint16), want.view(np.uint16))


def test_vectors_land_in_tile_order_from_shuffled_parts(ws: Workspace) -> None:
    ids, world = _write_shuffled(ws)
    got = load_inputs(ws, CLIP, DINO)
    pos = {t: i for i, t in enumerate(ids)}
    order = np.array([pos[t] for t in got.tile_ids])
    np.testing.assert_allclose(got.clip.vectors, world["clip"][order], atol=1e-6)
    np.testing.assert_allclose(got.dino.vectors, world["dino"][order], atol=1e-6)


def test_gather_reads_only_the_parts_holding_the_rows(ws: Workspace) -> None:
    _write_shuffled(ws, n=300, parts=4)
    parts = load_inputs(ws, CLIP, DINO, hold_max=0).dino.vectors.parts
    starts = parts.starts
    read: list[int] = []
    parts.visit(lambda first, _: read.append(first), np.array([starts[2] + 1]))
    assert read == [int(starts[2])]


def test_parts_are_read_in_reader_threads(ws: Workspace) -> None:
    _write_shuffled(ws, n=300, parts=4)
    parts = load_inputs(ws, CLIP, DINO, hold_max=0).dino.vectors.parts
    names: set[str] = set()
    parts.visit(lambda first, x: names.add(threading.current_thread().name))
    assert len(names) > 1 and all(n.startswith("parts") for n in names)


def test_pair_dots_equal_rowwise_dot_in_several_passes(ws: Workspace, monkeypatch) -> None:
    _write_shuffled(ws)
    held = load_inputs(ws, CLIP, DINO, hold_max=10**9)
    streamed = load_inputs(ws, CLIP, DINO, hold_max=0)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 300, 2000), rng.integers(0, 300, 2000)
    # 40 rows per pass: many passes over the parts
    monkeypatch.setattr(rows_mod, "GATHER_BYTES", 40 * 4 * streamed.dino.vectors.parts.dim)
    want = rowwise_dot(held.dino.vectors, a, b)
    np.testing.assert_array_equal(pair_dots(streamed.dino.vectors, a, b), want)


def test_pair_dots_read_sorted_file_rows_a_bounded_pass_at_a_time(
    ws: Workspace, monkeypatch
) -> None:
    _write_shuffled(ws)
    streamed = load_inputs(ws, CLIP, DINO, hold_max=0)
    dino = streamed.dino.vectors
    passes: list[np.ndarray] = []
    real = VectorParts.gather

    def spy(self: VectorParts, rows: np.ndarray, hashes: np.ndarray | None = None) -> np.ndarray:
        passes.append(rows.copy())
        return real(self, rows, hashes)

    monkeypatch.setattr(VectorParts, "gather", spy)
    monkeypatch.setattr(rows_mod, "GATHER_BYTES", 40 * 4 * dino.parts.dim)
    rng = np.random.default_rng(4)
    a, b = rng.integers(0, 300, 500), rng.integers(0, 300, 500)
    pair_dots(dino, a, b)
    # each pass: sorted, distinct file rows (returned as read: no reordered second copy)
    assert len(passes) >= 2 and all(len(r) <= 40 and (np.diff(r) > 0).all() for r in passes)
    want = np.unique(dino.source[np.concatenate([a, b])])
    assert np.array_equal(np.unique(np.concatenate(passes)), want)


def _count_part_reads(monkeypatch) -> list[str]:  # noqa: ANN001
    """The folder name of each embedding part read from now on, in order."""
    reads: list[str] = []
    real = VectorParts._read_part

    def spy(self: VectorParts, i: int, work) -> int:  # noqa: ANN001
        reads.append(self.folder.name)
        return real(self, i, work)

    monkeypatch.setattr(VectorParts, "_read_part", spy)
    return reads


def test_dinov2_rows_are_hashed_by_the_first_pair_dots_not_at_load(
    ws: Workspace, monkeypatch
) -> None:
    _write_shuffled(ws, parts=4)
    held = load_inputs(ws, CLIP, DINO, hold_max=10**9)
    reads = _count_part_reads(monkeypatch)
    streamed = load_inputs(ws, CLIP, DINO, hold_max=0)
    dino_folder = streamed.dino.folder.name
    assert streamed.dino.known_hashes is None and dino_folder not in reads
    dino = streamed.dino.vectors
    one_part = dino.source < dino.parts.counts[0]  # rows of the first part only
    a, b = np.flatnonzero(one_part)[:2]
    got = pair_dots(dino, np.array([a]), np.array([b]))
    np.testing.assert_array_equal(got, rowwise_dot(held.dino.vectors, [a], [b]))
    assert reads.count(dino_folder) == 4  # every part once: the hashes came on the way
    np.testing.assert_array_equal(streamed.dino.hashes, held.dino.hashes)
    assert reads.count(dino_folder) == 4  # and no pass of their own afterwards


def test_a_fresh_streamed_run_reads_the_dinov2_parts_once(ws: Workspace, monkeypatch) -> None:
    _write_shuffled(ws, parts=4)
    monkeypatch.setattr(inputs_mod, "HOLD_FLOAT32_MAX", 0)
    reads = _count_part_reads(monkeypatch)
    run_mine(ws, TINY, quiet=True)
    assert reads.count(ws.encoder_dir(DINO).name) == 4  # the similarities' pass hashes too
    from pairs.store import searched_path

    held = load_inputs(ws, CLIP, DINO, hold_max=10**9)
    searched = pq.read_table(searched_path(ws)).sort_by("tile_id")
    assert searched.column("tile_id").to_pylist() == held.tile_ids
    np.testing.assert_array_equal(searched.column("dino_hash").to_numpy(), held.dino.hashes)


def test_dinov2_hashes_survive_dropped_tiles_before_any_read(ws: Workspace) -> None:
    _write_shuffled(ws)
    held = load_inputs(ws, CLIP, DINO, hold_max=10**9)
    streamed = load_inputs(ws, CLIP, DINO, hold_max=0)
    bad = np.zeros(300, dtype=bool)
    bad[[0, 17, 299]] = True
    kept_held, kept = held.drop(bad, "test"), streamed.drop(bad, "test")
    assert kept.dino.known_hashes is None
    np.testing.assert_array_equal(kept.dino.hashes, kept_held.dino.hashes)


def test_float16_search_agrees_with_float32_within_the_slack() -> None:
    rng = np.random.default_rng(1)
    x = unit(rng.standard_normal((500, 768)))
    a, b = rng.integers(0, 500, 5000), rng.integers(0, 500, 5000)
    exact = rowwise_dot(x, a, b)
    half = rowwise_dot(x.astype(np.float16), a, b)
    assert half.dtype == np.float32
    assert np.abs(half - exact).max() <= FP16_SLACK


def _search(x16: np.ndarray | PartRows, dino, n: int, plan: SearchPlan):
    return find_candidates(
        import_faiss(),
        SearchVectors(x16, dino, np.ones(n, bool)),
        plan,
        Thresholds(clip_min=0.95, dino_max=0.6, tau_clip=0.95),
        SearchOptions(batch=256, recall_sample=100),
    )


@pytest.mark.parametrize("plan", [SearchPlan("exact"), SearchPlan("ivf", nlist=8, nprobe=3)])
def test_streamed_search_finds_the_float32_candidates(ws: Workspace, plan: SearchPlan) -> None:
    _write_shuffled(ws)
    held = load_inputs(ws, CLIP, DINO, hold_max=10**9)
    streamed = load_inputs(ws, CLIP, DINO, hold_max=0)
    want = _search(held.clip.vectors, held.dino.vectors, 300, plan)
    got = _search(streamed.clip.vectors, streamed.dino.vectors, 300, plan)
    assert len(want.candidates) > 0
    for field in ("a", "b", "clip", "dino"):
        np.testing.assert_array_equal(
            getattr(got.candidates, field), getattr(want.candidates, field)
        )
    assert got.recall == want.recall


def test_mine_results_do_not_depend_on_the_hold_limit(tmp_path, monkeypatch) -> None:
    tables = []
    for limit in (10**9, 0):
        ws = Workspace(tmp_path / f"ws{limit}")
        _, world = _write_shuffled(ws)
        monkeypatch.setattr(inputs_mod, "HOLD_FLOAT32_MAX", limit)
        run_mine(ws, TINY, quiet=True)
        tables.append(pq.read_table(ws.pairs).select(["pair_id", "clip_sim", "dino_sim"]))
    assert tables[0].equals(tables[1])
    assert set(tables[0].column("pair_id").to_pylist()) == world["blind"]


def test_pairs_of_near_duplicate_families_are_read_in_few_passes() -> None:
    from pairs.rows import _chunks, grouped_order

    rng = np.random.default_rng(3)
    families = rng.permutation(10_000)[:500].reshape(100, 5)  # 100 families of 5 tiles
    i, j = np.triu_indices(5, 1)
    a = np.minimum(families[:, i], families[:, j]).ravel()
    b = np.maximum(families[:, i], families[:, j]).ravel()
    order = grouped_order(a, b)
    assert sorted(order.tolist()) == list(range(len(a)))
    passes = len(list(_chunks(a[order], b[order], 100)))
    assert passes <= 6  # 500 distinct rows, up to 100 a pass
    by_a = np.argsort(a, kind="stable")
    assert len(list(_chunks(a[by_a], b[by_a], 100))) >= 2 * passes  # 14: families split
