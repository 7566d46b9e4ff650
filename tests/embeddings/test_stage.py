"""The embed stage on a generated workspace: outputs, incremental runs, resume, bad tiles."""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import pyarrow.parquet as pq
import pytest

from blindpairs import compute
from blindpairs.errors import ConfigError, WorkspaceError
from blindpairs.schemas import EMBEDDING_META_KEYS, read_embeddings, read_metadata
from embeddings import store
from embeddings.params import EmbedParams
from embeddings.registry import create_encoder
from embeddings.stage import embed_workspace
from embeddings.tiles import decode, tile_images

TINY = EmbedParams(
    encoders="tiny", compute_dtype="float32", device="cpu", batch_size=4, part_size=5
)
CLIP, DINO = "clip-tiny-random", "dinov2-tiny-random"


def local() -> contextlib.AbstractContextManager:
    return compute.dask_client(workers=1)


def no_dask() -> contextlib.AbstractContextManager:
    raise AssertionError("Dask was started although there was nothing to do")


def run(ws, params=TINY, factory=local):
    return {s.encoder_id: s for s in embed_workspace(ws, params, factory, quiet=True)}


def test_embeds_every_tile_readable_by_the_mine_stage(workspace, scene_writer) -> None:
    ids = scene_writer("a", 7) + scene_writer("b", 4, seed=1)
    out = run(workspace)
    assert out[CLIP].embedded == out[DINO].embedded == 11
    for encoder_id, dim in ((CLIP, 32), (DINO, 64)):
        got_ids, vectors, meta = read_embeddings(workspace.encoder_dir(encoder_id))
        assert sorted(got_ids) == sorted(ids) and vectors.shape == (11, dim)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert set(EMBEDDING_META_KEYS) <= set(meta) and meta["random_weights"] is True
        assert meta["encoder_id"] == encoder_id and meta["dim"] == dim
        # the stored vectors are the encoder's own output for those tiles
        enc = create_encoder(encoder_id, dtype="float32", device="cpu")
        images = {
            **tile_images(workspace.tile_part("a"), set(ids)),
            **tile_images(workspace.tile_part("b"), set(ids)),
        }
        direct = enc.encode_images([decode(images[t]) for t in got_ids])
        np.testing.assert_allclose(vectors, direct, atol=1e-5)
    # 7 tiles at part_size 5 -> 2 parts, 4 tiles -> 1 part
    assert len(store.parts(workspace.encoder_dir(CLIP))) == 3


def test_rerun_with_nothing_new_does_not_start_dask(workspace, scene_writer) -> None:
    scene_writer("a", 3)
    run(workspace)
    out = run(workspace, factory=no_dask)
    assert out[CLIP].embedded == 0 and out[CLIP].skipped == 3


def test_new_scene_embeds_only_its_tiles(workspace, scene_writer) -> None:
    scene_writer("a", 6)
    run(workspace)
    before = {p.name: p.stat().st_mtime_ns for p in store.parts(workspace.encoder_dir(DINO))}
    new = scene_writer("b", 3, seed=2)
    out = run(workspace)
    assert out[DINO].embedded == 3 and out[DINO].skipped == 6
    after = {p.name: p.stat().st_mtime_ns for p in store.parts(workspace.encoder_dir(DINO))}
    assert {k: after[k] for k in before} == before  # old parts untouched
    added = set(after) - set(before)
    assert len(added) == 1
    ids = pq.read_table(workspace.encoder_dir(DINO) / added.pop()).column("tile_id").to_pylist()
    assert ids == new


def test_killed_run_resumes_with_only_the_missing_part(workspace, scene_writer) -> None:
    scene_writer("a", 12)
    run(workspace)
    folder = workspace.encoder_dir(CLIP)
    parts = store.parts(folder)
    lost = pq.read_table(parts[1]).column("tile_id").to_pylist()
    parts[1].unlink()  # the part being written when the run was killed ...
    (folder / f"{parts[1].name}.tmp-123-abc").write_bytes(b"half a part")  # ... and its temporary
    out = run(workspace)
    assert out[CLIP].embedded == len(lost) and out[DINO].embedded == 0
    assert not [p for p in folder.iterdir() if ".tmp-" in p.name]
    ids, _, _ = read_embeddings(folder)
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 12


def test_undecodable_tile_is_recorded_and_the_rest_go_on(workspace, scene_writer) -> None:
    ids = scene_writer("a", 6, bad=[2])
    out = run(workspace)
    assert out[CLIP].embedded == 5 and out[CLIP].failed == 1
    assert "cannot decode image" in out[CLIP].reasons[ids[2]]
    got, vectors, _ = read_embeddings(workspace.encoder_dir(CLIP))
    assert ids[2] not in got and np.isfinite(vectors).all()
    failures = pq.read_table(workspace.encoder_dir(CLIP) / store.FAILURES).to_pylist()
    assert [f["tile_id"] for f in failures] == [ids[2]]
    # not retried by default (nothing to do), retried on request
    again = run(workspace, factory=no_dask)
    assert again[CLIP].failed_before == 1
    retried = run(workspace, dataclasses.replace(TINY, retry_failed=True))
    assert retried[CLIP].failed == 1 and retried[CLIP].embedded == 0


def test_changed_preprocessing_fails_fast_then_replace_reembeds(workspace, scene_writer) -> None:
    scene_writer("a", 4)
    run(workspace)
    changed = dataclasses.replace(TINY, dino_size=84)
    with pytest.raises(ConfigError, match="--replace") as err:
        run(workspace, changed, factory=no_dask)
    assert "56 -> " in str(err.value) or "preprocessing" in str(err.value)
    out = run(workspace, dataclasses.replace(changed, replace=True))
    assert out[DINO].embedded == 4 and out[CLIP].embedded == 0
    _, _, meta = read_embeddings(workspace.encoder_dir(DINO))
    assert meta["preprocessing"]["size"] == 84


def test_float16_storage_reads_back_as_float32(workspace, scene_writer) -> None:
    scene_writer("a", 3)
    run(workspace, dataclasses.replace(TINY, dtype="float16", dino="none"))
    part = store.parts(workspace.encoder_dir(CLIP))[0]
    assert "halffloat" in str(pq.read_schema(part).field("embedding").type)
    assert read_metadata(part)["storage_dtype"] == "float16"
    _, vectors, _ = read_embeddings(workspace.encoder_dir(CLIP))
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=2e-3)
    assert not workspace.encoder_dir(DINO).exists()


def test_bad_configuration_fails_before_any_work(workspace, scene_writer) -> None:
    with pytest.raises(WorkspaceError, match="blindpairs tile"):
        run(workspace, factory=no_dask)
    scene_writer("a", 2)
    for bad in (
        dataclasses.replace(TINY, clip=DINO),
        dataclasses.replace(TINY, clip="none", dino="none"),
        dataclasses.replace(TINY, dino="dinov2:nope"),
        dataclasses.replace(TINY, clip_checkpoint="/no/such/file.pt"),
    ):
        with pytest.raises(ConfigError):
            run(workspace, bad, factory=no_dask)
    assert not workspace.embeddings.exists()


@pytest.mark.slow
def test_two_worker_cluster_gives_the_same_vectors_as_local(
    tmp_path, scene_writer, workspace
) -> None:
    from distributed import Client, LocalCluster

    scene_writer("a", 9)
    run(workspace)
    local_ids, local_vecs, _ = read_embeddings(workspace.encoder_dir(DINO))
    order = np.argsort(local_ids)

    @contextlib.contextmanager
    def cluster():
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as c,
            Client(c) as client,
        ):
            yield client

    other = type(workspace)(tmp_path / "ws2")
    other.tiles.mkdir(parents=True)
    (other.tiles / "part-a.parquet").write_bytes(workspace.tile_part("a").read_bytes())
    run(other, dataclasses.replace(TINY, clip="none", part_size=3), factory=cluster)
    ids, vecs, _ = read_embeddings(other.encoder_dir(DINO))
    np.testing.assert_allclose(vecs[np.argsort(ids)], local_vecs[order], atol=1e-6)
    assert sorted(ids) == sorted(local_ids)
