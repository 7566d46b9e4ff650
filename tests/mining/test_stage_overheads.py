"""The tile stage's work around the cutting: the content hash computed beside the cutting
(or beside the statistics read, by ``plan_scene`` alone), the local cluster's settings, and
how a tiles part is written (same values for every reader)."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import xxhash

import mining.pending_hash
import mining.plan
import mining.scenes
import mining.stage
from blindpairs.workspace import Workspace
from mining.params import TileParams
from mining.plan import ScenePlan, plan_scene
from mining.scenes import HashStopped, SceneRef, content_hash, hashing
from mining.stage import part_write_options
from tests.mining.helpers import meta, rows, tile


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _xxh3(path: Path) -> str:
    return "xxh3:" + xxhash.xxh3_128(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "size", [0, 1, mining.scenes.HASH_BLOCK - 1, 2 * mining.scenes.HASH_BLOCK + 7]
)
def test_content_hash_is_the_xxh3_of_the_file_at_every_block_boundary(tmp_path, size):
    """XXH3-128 of the whole file; SHA-256 when compared with a hash recorded as one."""
    path = tmp_path / "f.tif"
    path.write_bytes(np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes())
    ref = SceneRef(str(path), "f")
    assert content_hash(ref) == _xxh3(path)
    with hashing(ref) as content_of:
        assert content_of() == _xxh3(path)
    legacy = hashlib.sha256(b"an older file").hexdigest()
    assert content_hash(ref, like=legacy) == _sha256(path)
    with hashing(ref, like=legacy) as content_of:
        assert content_of() == _sha256(path)
    assert content_hash(ref, like="xxh3:0") == _xxh3(path)


def test_a_remote_scene_is_hashed_by_its_uri_without_reading():
    ref = SceneRef("/vsicurl/https://example.com/a.tif", "a")
    with hashing(ref) as content_of:
        assert content_of() == "uri:" + hashlib.sha256(ref.uri.encode()).hexdigest()


def test_a_stopped_hash_ends_early_and_says_so(tmp_path):
    path = tmp_path / "f.tif"
    path.write_bytes(b"x" * (3 * mining.scenes.HASH_BLOCK))
    stop = threading.Event()
    stop.set()
    with pytest.raises(HashStopped):
        content_hash(SceneRef(str(path), "f"), stop)


def test_a_failing_hash_is_raised_where_its_result_is_asked(tmp_path):
    ref = SceneRef(str(tmp_path / "missing.tif"), "m")
    with hashing(ref) as content_of, pytest.raises(FileNotFoundError):
        content_of()


def test_the_plan_hashes_the_file_while_the_pixels_are_read(tmp_path, raster, monkeypatch):
    """The statistics read starts before the hash ends, and the plan carries the file's
    content hash (the tile ids' input)."""
    path = raster("a.tif", 3, "uint16")
    started, release = threading.Event(), threading.Event()
    plain_hash = mining.scenes.content_hash

    def slow_hash(ref, stop=None, like=None):  # noqa: ANN001, ANN202
        started.set()
        assert release.wait(30), "the statistics read never started"
        return plain_hash(ref, stop, like)

    plain_pixels = mining.plan._pixels

    def pixels(*args):  # noqa: ANN002, ANN202
        release.set()  # the hash is still waiting here: both run at once
        return plain_pixels(*args)

    monkeypatch.setattr(mining.scenes, "content_hash", slow_hash)
    monkeypatch.setattr(mining.plan, "_pixels", pixels)
    plan = plan_scene(SceneRef(str(path), "a"), TileParams(size=64))
    assert isinstance(plan, ScenePlan), plan
    assert started.is_set()
    assert plan.content == _xxh3(path)


def test_a_failing_read_stops_the_hash_and_is_the_reason(tmp_path, raster, monkeypatch):
    stopped: list[bool] = []

    def waiting_hash(ref, stop=None, like=None):  # noqa: ANN001, ANN202
        stopped.append(stop.wait(30))
        raise HashStopped(ref.uri)

    def failing_pixels(*args):  # noqa: ANN002, ANN202
        raise ValueError("every pixel is nodata or masked")

    monkeypatch.setattr(mining.scenes, "content_hash", waiting_hash)
    monkeypatch.setattr(mining.plan, "_pixels", failing_pixels)
    failure = plan_scene(SceneRef(str(raster("a.tif")), "a"), TileParams(size=64))
    assert failure.reason == "every pixel is nodata or masked"
    assert stopped == [True]


def test_parts_record_the_content_hash_and_ids_derive_from_it(tmp_path, raster):
    path = raster("a.tif", 3, "uint16")
    tile(tmp_path / "ws", [path])
    m = meta(tmp_path / "ws", "a")
    assert m["content"] == _xxh3(path)
    suffix = hashlib.sha1(f"{m['content']}|{m['tiling']}".encode()).hexdigest()[:8]
    assert {r["tile_id"].rsplit("-", 1)[1] for r in rows(tmp_path / "ws", "a")} == {suffix}


def _sha256_hash(ref, stop=None, like=None):  # noqa: ANN001, ANN202 - the content hash before XXH3
    return hashlib.sha256(Path(ref.uri).read_bytes()).hexdigest()


def test_a_part_recorded_with_sha256_stays_current_and_is_compared_by_it(
    tmp_path, raster, monkeypatch
):
    """Parts tiled when content hashes were SHA-256 are not re-tiled for the change: a
    touched file is hashed the recorded way and found unchanged; a changed one is
    re-tiled."""
    path = raster("a.tif", 3, "uint16", seed=1)
    ws = tmp_path / "ws"
    with monkeypatch.context() as m:
        for module in (mining.pending_hash, mining.scenes):
            m.setattr(module, "content_hash", _sha256_hash)
        tile(ws, [path])
    assert meta(ws, "a")["content"] == _sha256(path)
    before = Workspace(ws).tile_part("a").read_bytes()
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    summary = tile(ws, [path])
    assert summary.unchanged == ["a"] and not summary.changed
    assert Workspace(ws).tile_part("a").read_bytes() == before
    raster("a.tif", 3, "uint16", seed=2)  # new pixels, same name
    summary = tile(ws, [path])
    assert summary.changed == ["a"]
    assert meta(ws, "a")["content"] == _sha256(path)  # compared, and kept, the recorded way


@pytest.mark.parametrize(("level", "image_codec"), [(0, "ZSTD"), (1, "UNCOMPRESSED")])
def test_parts_write_the_image_column_plainly_and_every_other_with_dictionary(
    tmp_path, raster, level, image_codec
):
    """No dictionary or statistics for the PNG bytes only (their cost is the client's, per
    tile), zstd for them at PNG level 0 only; every other column keeps zstd and both."""
    tile(tmp_path / "ws", [raster("a.tif", 3, "uint16")], png_compression=level)
    md = pq.ParquetFile(Workspace(tmp_path / "ws").tile_part("a")).metadata
    group = md.row_group(0)
    columns = {group.column(i).path_in_schema: group.column(i) for i in range(md.num_columns)}
    assert set(columns) == {"image", *part_write_options(level)["use_dictionary"]}
    for path, column in columns.items():
        assert column.compression == (image_codec if path == "image" else "ZSTD"), path
        has_dictionary = "RLE_DICTIONARY" in column.encodings
        assert has_dictionary == (path != "image"), path
        assert column.is_stats_set == (path != "image"), path


@pytest.mark.parametrize("level", [0, 1])
def test_every_consumer_reads_the_parts_image_column(tmp_path, raster, level):
    """embed, export and report read the PNG bytes of a part through their own readers:
    the bytes come back as written, for every row."""
    from annotation_export.inputs import read_tile_rows
    from blindpairs import png
    from embeddings.tiles import tile_images
    from report.gather import read_tile_images

    tile(tmp_path / "ws", [raster("a.tif", 3, "uint16")], png_compression=level)
    ws = Workspace(tmp_path / "ws")
    written = {r["tile_id"]: r["image"] for r in rows(tmp_path / "ws", "a")}
    assert len(written) > 1
    assert all(image.startswith(b"\x89PNG") for image in written.values())
    assert tile_images(ws.tile_part("a"), set(written)) == written
    assert read_tile_images((ws.tile_part("a"),), set(written)) == written
    exported = read_tile_rows(ws, set(written), with_image=True)
    assert {t: r["image"] for t, r in exported.items()} == {
        t: png.compact(image) for t, image in written.items()
    }


def test_the_local_cluster_runs_without_the_worker_profiler():
    """Dask's statistical profiler samples every running task's stack on the event loop;
    nothing reads it, so the local cluster's workers run without it."""
    import dask

    from blindpairs.compute import dask_client

    def has_profiler(dask_worker) -> bool:  # noqa: ANN001
        return "profile" in dask_worker.periodic_callbacks

    def tick_ms(dask_worker) -> float:  # noqa: ANN001
        return dask_worker.periodic_callbacks["tick"].callback_time

    with dask_client(None, workers=1) as client:
        assert list(client.run(has_profiler).values()) == [False]
        assert list(client.run(tick_ms).values()) == [500]
    assert dask.config.get("distributed.worker.profile.enabled")  # the caller's config is kept


# Module-level (Dask pickles tasks by reference to their module, not their closures' locks).
_CUT = threading.Event()


def _chunk_then_signal(task):  # noqa: ANN001, ANN202
    from mining.tiler import tile_chunk

    result = tile_chunk(task)
    _CUT.set()
    return result


def _hash_after_a_cut(ref, stop=None, like=None):  # noqa: ANN001, ANN202
    assert _CUT.wait(10), "no tile was cut while the hash ran"
    return content_hash(ref, stop, like)


def test_the_stage_cuts_tiles_while_the_content_hash_runs(tmp_path, raster, monkeypatch):
    """The hash (the tile ids' input) does not hold the cutting back: it ends only after a
    chunk of the same scene was cut, and the ids still derive from it."""
    path = raster("a.tif", 3, "uint16")
    _CUT.clear()
    monkeypatch.setattr(mining.stage, "tile_chunk", _chunk_then_signal)
    for module in (mining.pending_hash, mining.scenes):  # wherever the stage may hash
        monkeypatch.setattr(module, "content_hash", _hash_after_a_cut)
    summary = tile(tmp_path / "ws", [path])
    assert summary.new == ["a"] and not summary.failed and summary.tiles_written == 16
    m = meta(tmp_path / "ws", "a")
    assert m["content"] == _xxh3(path)
    suffix = hashlib.sha1(f"{m['content']}|{m['tiling']}".encode()).hexdigest()[:8]
    ids = [r["tile_id"] for r in rows(tmp_path / "ws", "a")]
    assert len(set(ids)) == 16 and {i.rsplit("-", 1)[1] for i in ids} == {suffix}


def test_a_hash_failing_after_the_plan_fails_its_scene_only(tmp_path, raster, monkeypatch):
    """The file became unreadable between the plan and the hash: that scene is a failure
    with the reason, its old part stays, the other scenes are written."""
    a, b = raster("a.tif", seed=1), raster("b.tif", seed=2)
    ws = tmp_path / "ws"
    tile(ws, [a, b])
    old_b = Workspace(ws).tile_part("b").read_bytes()
    plain_hash = mining.pending_hash.content_hash

    def hash_failing_for_b(ref, stop=None, like=None):  # noqa: ANN001, ANN202
        if ref.scene_id == "b":
            raise PermissionError(f"[Errno 13] Permission denied: '{ref.uri}'")
        return plain_hash(ref, stop, like)

    monkeypatch.setattr(mining.pending_hash, "content_hash", hash_failing_for_b)
    summary = tile(ws, [a, b], force=True)
    assert summary.changed == ["a"] and [u for u, _ in summary.failed] == [str(b)]
    assert summary.failed[0][1].startswith("content hash: [Errno 13] Permission denied")
    assert Workspace(ws).tile_part("b").read_bytes() == old_b
    assert summary.tiles_written == 16 and meta(ws, "a")["content"] == _xxh3(a)
    failures = pq.read_table(Workspace(ws).tile_failures).to_pylist()
    assert [(f["scene_id"], f["tile"]) for f in failures] == [("b", None)]


class _Pending:
    """A content-hash future that is never done until its result is asked."""

    def __init__(self) -> None:
        self.asked_after = -1

    def done(self) -> bool:
        return False

    def result(self) -> str:
        return "0" * 64

    def release(self) -> None:
        pass


def test_cut_tiles_held_while_the_hash_runs_are_bounded(tmp_path, raster, monkeypatch):
    """While a scene's hash runs its chunk results are held up to HASH_WAIT_BYTES of
    images; then the hash is waited for, and every result comes out, in order, with ids."""
    from mining.tiler import PENDING_ID, chunk_tasks, tile_chunk

    plan = plan_scene(SceneRef(str(raster("a.tif")), "a"), TileParams(size=64), defer_hash=True)
    assert plan.content is None
    results = [tile_chunk(t) for t in chunk_tasks(plan, 4, **_THRESHOLDS)]  # 4 chunks of 4
    assert {i for r in results for i in r.table.column("tile_id").to_pylist()} == {PENDING_ID}
    per_chunk = results[0].table.column("image").nbytes
    monkeypatch.setattr(mining.pending_hash, "HASH_WAIT_BYTES", int(2.5 * per_chunk))
    taken: list[int] = []

    def source():  # noqa: ANN202
        for i, r in enumerate(results):
            taken.append(i)
            yield r

    content = _Pending()
    plain_result = content.result

    def result() -> str:
        content.asked_after = len(taken)
        return plain_result()

    content.result = result  # type: ignore[method-assign]
    full, chunks = mining.pending_hash.identified(plan, source(), len(results), content)
    assert content.asked_after == 3  # held 3 chunks (past the bound), then waited
    assert full.content == "0" * 64
    out = list(chunks)
    assert [r.table.column("row_off").to_pylist() for r in out] == [
        r.table.column("row_off").to_pylist() for r in results
    ]
    ids = [i for r in out for i in r.table.column("tile_id").to_pylist()]
    assert len(set(ids)) == 16 and all(i.endswith("-" + full.id_suffix) for i in ids)


_THRESHOLDS = {"min_valid": 0.9, "min_std": 0.0, "max_saturated": 1.0, "png_compression": 0}
