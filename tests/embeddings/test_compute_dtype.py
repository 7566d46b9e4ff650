"""``--compute-dtype auto``: a fixed rule (no timing), and the dtype in the embedding identity."""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from blindpairs import compute
from blindpairs.errors import ConfigError, InputError
from blindpairs.schemas import read_embeddings, read_metadata
from embeddings import device as devices
from embeddings import store
from embeddings.params import EmbedParams
from embeddings.stage import embed_workspace

DINO = "dinov2-tiny-random"
AUTO = EmbedParams(
    encoders="tiny", clip="none", compute_dtype="auto", device="cpu", batch_size=4, part_size=3
)


def local() -> contextlib.AbstractContextManager:
    return compute.dask_client(workers=1)


def run(ws, params=AUTO):
    return {s.encoder_id: s for s in embed_workspace(ws, params, local, quiet=True)}


def dtypes(ws) -> set[str]:
    return {read_metadata(p)["compute_dtype"] for p in store.parts(ws.encoder_dir(DINO))}


@pytest.mark.parametrize(("native", "expected"), [(False, torch.float32), (True, torch.bfloat16)])
def test_cpu_auto_follows_the_native_bf16_rule(monkeypatch, native, expected) -> None:
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: native)
    cpu = torch.device("cpu")
    # the same answer every time: no timing involved
    assert {devices.resolve_compute_dtype("auto", cpu) for _ in range(3)} == {expected}
    assert devices.compute_dtype_name("auto", "cpu") == str(expected).removeprefix("torch.")
    assert devices.resolve_compute_dtype("float16", cpu) == torch.float16
    with pytest.raises(ConfigError, match="compute dtype 'half'"):
        devices.compute_dtype_name("half", "cpu")


def test_two_clean_auto_runs_give_identical_vectors(tmp_path, scene_writer, workspace) -> None:
    from blindpairs.workspace import Workspace

    scene_writer("a", 4)
    run(workspace)
    other = Workspace(tmp_path / "other")
    other.tiles.mkdir(parents=True)
    (other.tiles / "part-a.parquet").write_bytes(workspace.tile_part("a").read_bytes())
    run(other)
    ids_a, vec_a, meta_a = read_embeddings(workspace.encoder_dir(DINO))
    ids_b, vec_b, meta_b = read_embeddings(other.encoder_dir(DINO))
    assert ids_a == ids_b and (vec_a == vec_b).all()
    assert (
        meta_a["compute_dtype"]
        == meta_b["compute_dtype"]
        == devices.compute_dtype_name("auto", "cpu")
    )


def test_resumed_auto_run_keeps_the_folder_dtype(monkeypatch, workspace, scene_writer) -> None:
    scene_writer("a", 4)
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: True)
    run(workspace)
    assert dtypes(workspace) == {"bfloat16"}
    # later, the rule would say float32 (another machine): new tiles still get bfloat16
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: False)
    scene_writer("b", 3, seed=1)
    out = run(workspace)
    assert out[DINO].embedded == 3 and out[DINO].skipped == 4
    assert dtypes(workspace) == {"bfloat16"}
    ids, vectors, meta = read_embeddings(workspace.encoder_dir(DINO))
    assert len(ids) == 7 and meta["compute_dtype"] == "bfloat16"


def test_explicit_other_dtype_is_another_embedding(workspace, scene_writer) -> None:
    scene_writer("a", 4)
    run(workspace, dataclasses.replace(AUTO, compute_dtype="float32"))
    with pytest.raises(ConfigError, match=r'compute_dtype: "float32" -> "bfloat16".*--replace'):
        run(workspace, dataclasses.replace(AUTO, compute_dtype="bfloat16"))
    assert dtypes(workspace) == {"float32"}
    out = run(workspace, dataclasses.replace(AUTO, compute_dtype="bfloat16", replace=True))
    assert out[DINO].embedded == 4 and dtypes(workspace) == {"bfloat16"}


def test_a_folder_mixing_dtypes_is_refused_by_readers(workspace, scene_writer) -> None:
    scene_writer("a", 4)
    run(workspace, dataclasses.replace(AUTO, compute_dtype="float32"))
    folder = workspace.encoder_dir(DINO)
    first = store.parts(folder)[0]
    table = pq.read_table(first)
    store.write_part(
        folder,
        first.name,
        table.column("tile_id").to_pylist(),
        np.asarray(table.column("embedding").to_pylist(), dtype=np.float32),
        {**read_metadata(first), "compute_dtype": "bfloat16"},
        "float32",
    )
    with pytest.raises(InputError, match=r"compute_dtype \"float32\" vs \"bfloat16\""):
        read_embeddings(folder)
