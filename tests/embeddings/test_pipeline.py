"""The embed worker's pipeline: tasks across parts, full batches, prefetching, warm-up, threads."""

from __future__ import annotations

import contextlib
import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from blindpairs import compute
from blindpairs.schemas import read_embeddings
from embeddings import store, worker
from embeddings.encoder import ImageEncoder
from embeddings.imageprep import load_decoder
from embeddings.params import EmbedParams
from embeddings.registry import create_encoder
from embeddings.stage import chunk_tasks, embed_workspace, plan
from embeddings.tiles import decode, tile_images
from embeddings.worker import (
    ChunkTask,
    EncoderConfig,
    Segment,
    embed_chunk,
    match_torch_threads,
    prefetch_depth,
    prepared_batches,
    worker_threads,
)
from tests.embeddings.pngs import png

DINO = "dinov2-tiny-random"
PARAMS = EmbedParams(
    encoders="tiny", clip="none", compute_dtype="float32", device="cpu", batch_size=4, part_size=5
)
CONFIG = EncoderConfig(DINO, device="cpu", compute_dtype="float32")


def local() -> contextlib.AbstractContextManager:
    return compute.dask_client(workers=1)


@pytest.fixture
def forward_sizes(monkeypatch) -> list[int]:
    """The batch sizes the model is run on (recorded by a wrapper of encode_prepared)."""
    sizes: list[int] = []
    real = ImageEncoder.encode_prepared

    def spy(self, tensors):
        sizes.append(len(tensors))
        return real(self, tensors)

    monkeypatch.setattr(ImageEncoder, "encode_prepared", spy)
    return sizes


@pytest.fixture
def keep_torch_threads():
    """Restore torch's thread count (process-wide for new threads) after the test."""
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


def test_small_parts_share_a_task_up_to_part_size(workspace, scene_writer) -> None:
    scene_writer("a", 3)
    scene_writer("b", 7, seed=1)
    scene_writer("c", 2, seed=2)
    job = plan(workspace, PARAMS)[0]
    tasks = list(chunk_tasks(job, PARAMS))
    # b (7 tiles) makes output parts of 5 and 2; tasks are filled to 5 tiles, a part
    # that does not fit is split in two pieces (the first one marked incomplete)
    got = [[(s.source, len(s.tile_ids), s.complete) for s in t.segments] for t in tasks]
    assert got == [
        [("part-a", 3, True), ("part-b", 2, False)],
        [("part-b", 3, True), ("part-b", 2, True)],
        [("part-c", 2, True)],
    ]
    assert [t for task in tasks for t in task.tile_ids] == [
        t for ids in job.todo.values() for t in ids
    ]
    for task in tasks:
        assert len(task.images) == len(task.tile_ids) <= PARAMS.part_size
        assert task.images[0] is not None


def test_the_first_task_is_two_batches_so_the_model_starts_early(workspace, scene_writer) -> None:
    scene_writer("a", 12)
    params = dataclasses.replace(PARAMS, part_size=10, batch_size=2)
    tasks = list(chunk_tasks(plan(workspace, params)[0], params))
    assert [len(t.tile_ids) for t in tasks] == [4, 8]  # then part_size (10) each
    assert [[(len(s.tile_ids), s.complete) for s in t.segments] for t in tasks] == [
        [(4, False)],
        [(6, True), (2, True)],
    ]


def test_batches_are_full_across_parts_and_parts_are_unchanged(
    workspace, scene_writer, forward_sizes
) -> None:
    ids = {s: scene_writer(s, 3, seed=i) for i, s in enumerate("abc")}
    params = dataclasses.replace(PARAMS, part_size=20)
    out = embed_workspace(workspace, params, local, quiet=True)[0]
    assert out.embedded == 9 and out.parts == 3
    assert forward_sizes == [4, 4, 1]  # one part per forward would be [3, 3, 3]
    # the first task held 2 batches (a, b and 2 tiles of c): c's part was joined from 2 pieces
    folder = workspace.encoder_dir(DINO)
    # one part per tiles part, named and filled as when each part was its own task
    names = {store.part_name(f"part-{s}", scene_ids) for s, scene_ids in ids.items()}
    assert {p.name for p in store.parts(folder)} == names
    for scene, scene_ids in ids.items():
        name = store.part_name(f"part-{scene}", scene_ids)
        assert pq.read_table(folder / name).column("tile_id").to_pylist() == scene_ids
    got_ids, vectors, _ = read_embeddings(folder)
    images = {}
    for scene, scene_ids in ids.items():
        images.update(tile_images(workspace.tile_part(scene), set(scene_ids)))
    enc = create_encoder(DINO, dtype="float32", device="cpu")
    direct = enc.encode_images([decode(images[t]) for t in got_ids])
    np.testing.assert_allclose(vectors, direct, atol=1e-5)


def test_a_bad_tile_fails_alone_in_its_own_part(forward_sizes) -> None:
    images = [png(i) for i in range(5)]
    images[3] = images[3][:60]  # truncated
    task = ChunkTask(
        CONFIG,
        (Segment("part-a", ("a0", "a1")), Segment("part-b", ("b0", "b1", "b2"))),
        tuple(images),
        batch_size=4,
        decode_threads=2,
    )
    results = embed_chunk(task)
    assert [r.source for r in results] == ["part-a", "part-b"]
    assert results[0].tile_ids == ["a0", "a1"] and results[0].failures == []
    assert results[1].tile_ids == ["b0", "b2"]
    assert [t for t, _ in results[1].failures] == ["b1"]
    assert "cannot decode image" in results[1].failures[0][1]
    assert forward_sizes == [3, 1]  # the bad tile is left out of its batch
    enc = create_encoder(DINO, dtype="float32", device="cpu")
    direct = enc.encode_images([decode(images[i]) for i in (2, 4)])
    np.testing.assert_allclose(results[1].vectors, direct, atol=1e-5)


class CountingPool(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(2)
        self.submitted = 0

    def submit(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        self.submitted += 1
        return super().submit(*args, **kwargs)


def _handed_out(encoder, images, step, ahead=None) -> list[tuple[int, int, int]]:  # noqa: ANN001
    """``(lo, hi, tiles submitted so far)`` at each batch handed out."""
    with CountingPool() as pool:
        seen = []
        for lo, hi, futures in prepared_batches(pool, encoder, images, step, ahead):
            seen.append((lo, hi, pool.submitted))
            assert [f.result().ndim for f in futures] == [3] * (hi - lo)
    return seen


def test_decoding_runs_ahead_of_the_batch_handed_out() -> None:
    encoder = worker.get_encoder(CONFIG)
    images = [png(i) for i in range(10)]
    # when a batch is handed out, the next two (if any) are already submitted
    assert _handed_out(encoder, images, 3, ahead=2) == [
        (0, 3, 9),
        (3, 6, 10),
        (6, 9, 10),
        (9, 10, 10),
    ]
    for device in ("cuda", "cuda:1", "mps"):
        assert prefetch_depth(32, device) == 2 and prefetch_depth(128, device) == 1
        assert prefetch_depth(1024, device) == 1


def test_on_the_cpu_each_batch_is_decoded_only_when_asked_for() -> None:
    encoder = worker.get_encoder(CONFIG)
    assert encoder.device == "cpu" and prefetch_depth(32, "cpu") == 0
    images = [png(i) for i in range(10)]
    # the encoder's device decides: nothing decodes beside the forward of a batch
    assert _handed_out(encoder, images, 3) == [(0, 3, 3), (3, 6, 6), (6, 9, 9), (9, 10, 10)]


def test_model_is_loaded_and_warmed_up_once_per_process(monkeypatch) -> None:
    worker.release_encoders()
    calls: list[str] = []
    real = ImageEncoder.warm_up
    monkeypatch.setattr(ImageEncoder, "warm_up", lambda self: calls.append(self.encoder_id))
    task = ChunkTask(CONFIG, (Segment("part-a", ("a0",)),), (png(0),), batch_size=4)
    first, second = embed_chunk(task), embed_chunk(task)
    assert calls == [DINO]
    assert first[0].tile_ids == second[0].tile_ids == ["a0"]
    monkeypatch.setattr(ImageEncoder, "warm_up", real)
    worker.release_encoders()
    load_decoder.cache_clear()
    worker.get_encoder(CONFIG)
    assert load_decoder.cache_info().currsize == 1  # the decoder is imported at load


def test_torch_threads_follow_the_workers_threads(keep_torch_threads) -> None:
    def on_worker() -> tuple[int | None, int]:
        match_torch_threads(worker_threads())
        return worker_threads(), torch.get_num_threads()

    assert worker_threads() is None  # not on a Dask worker
    match_torch_threads(None)
    assert torch.get_num_threads() == keep_torch_threads
    for n in (1, 2):
        with compute.dask_client(workers=n) as client:
            assert client.submit(on_worker, pure=False).result() == (n, n)
