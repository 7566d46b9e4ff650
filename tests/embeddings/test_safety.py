"""Nothing finished is lost: --replace failures, bad checkpoints, --prune, the identity cache."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import pytest
import torch

from blindpairs.cli import main
from blindpairs.errors import ConfigError
from blindpairs.schemas import read_embeddings, read_metadata
from embeddings import identity_cache, registry, replace, stage, store
from embeddings.errors import CheckpointError, EncoderLoadError
from embeddings.params import EmbedParams
from embeddings.spec import EncoderOptions
from embeddings.stage import embed_workspace
from embeddings.worker import EncoderConfig, _create

DINO = "dinov2-tiny-random"
PARAMS = EmbedParams(
    encoders="tiny", clip="none", compute_dtype="float32", device="cpu", batch_size=4, part_size=5
)


class _Done:
    """A future that runs its task when its result is asked for (in this process)."""

    def __init__(self, fn: Any, item: Any) -> None:
        self.fn, self.item = fn, item

    def result(self) -> Any:
        return self.fn(self.item)

    def release(self) -> None:
        pass


class InlineClient:
    """Just enough of a Dask client to run the stage in-process (monkeypatches apply)."""

    def submit(self, fn: Any, item: Any, **_: Any) -> _Done:
        return _Done(fn, item)

    def scheduler_info(self) -> dict:
        return {"workers": {"inline": {}}}


def inline() -> contextlib.AbstractContextManager:
    return contextlib.nullcontext(InlineClient())


def no_dask() -> contextlib.AbstractContextManager:
    raise AssertionError("Dask was started although there was nothing to do")


def run(ws, params=PARAMS, factory=inline):
    return {s.encoder_id: s for s in embed_workspace(ws, params, factory, quiet=True)}


def _state(folder) -> dict[str, tuple[bytes, str]]:
    return {p.name: (p.read_bytes(), read_metadata(p)["weights"]) for p in store.parts(folder)}


def test_replace_with_garbage_checkpoint_fails_fast_and_keeps_the_old_parts(
    workspace, scene_writer, tmp_path
) -> None:
    scene_writer("a", 7)
    run(workspace)
    folder = workspace.encoder_dir(DINO)
    before = _state(folder)
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"not a checkpoint at all" * 10)
    bad = dataclasses.replace(PARAMS, dino_checkpoint=str(garbage), replace=True)
    with pytest.raises(CheckpointError) as err:
        run(workspace, bad, factory=no_dask)
    assert isinstance(err.value, ConfigError)
    assert repr(DINO) in str(err.value) and str(garbage) in str(err.value)
    assert "--dino-checkpoint" in str(err.value)
    assert _state(folder) == before


def test_replace_failing_midway_restores_the_old_parts(
    workspace, scene_writer, monkeypatch
) -> None:
    scene_writer("a", 12)
    run(workspace)
    folder = workspace.encoder_dir(DINO)
    before = _state(folder)
    real, calls = stage.embed_chunk, []

    def fail_second(task):
        calls.append(task)
        if len(calls) == 2:
            raise RuntimeError("worker lost its weights")
        return real(task)

    monkeypatch.setattr(stage, "embed_chunk", fail_second)
    changed = dataclasses.replace(PARAMS, dino_size=84, replace=True)
    with pytest.raises(RuntimeError, match="lost its weights"):
        run(workspace, changed)
    assert len(calls) == 2  # one new part was written before the failure
    assert _state(folder) == before
    assert not replace.backup_dir(folder).exists()
    monkeypatch.setattr(stage, "embed_chunk", real)
    out = run(workspace, changed)
    assert out[DINO].embedded == 12
    ids, _, meta = read_embeddings(folder)
    assert len(ids) == 12 and meta["preprocessing"]["size"] == 84
    assert not replace.backup_dir(folder).exists()


def test_unloadable_checkpoint_on_a_worker_names_encoder_and_file(tmp_path) -> None:
    wrong = tmp_path / "wrong.pt"
    torch.save({"not_a_vit.weight": torch.zeros(3)}, wrong)
    config = EncoderConfig(DINO, checkpoint=str(wrong), device="cpu", compute_dtype="float32")
    with pytest.raises(EncoderLoadError) as err:
        _create(config)
    assert repr(DINO) in str(err.value) and str(wrong) in str(err.value)


def test_embeddings_of_vanished_tiles_are_counted_then_pruned(
    workspace, scene_writer, capsys
) -> None:
    kept = scene_writer("a", 7)[:2]
    scene_writer("b", 3, seed=1)
    run(workspace)
    workspace.tile_part("b").unlink()
    scene_writer("a", 2)  # scene a re-tiled: only its first two tiles remain
    folder = workspace.encoder_dir(DINO)
    out = run(workspace, factory=no_dask)
    assert out[DINO].vanished == 8 and out[DINO].pruned == 0
    assert len(read_embeddings(folder)[0]) == 10
    argv = ["embed", "-w", str(workspace.root), "--encoders", "tiny", "--clip", "none", "-q"]
    assert main(argv) == 0
    assert "8 stored embedding(s) belong to tiles no longer in tiles/" in capsys.readouterr().out
    assert main([*argv, "--prune"]) == 0
    assert "pruned 8 embedding(s)" in capsys.readouterr().out
    ids, vectors, _ = read_embeddings(folder)
    assert sorted(ids) == sorted(kept) and vectors.shape == (2, 64)
    assert len(store.parts(folder)) == 1
    assert run(workspace, factory=no_dask)[DINO].vanished == 0


def test_identity_cache_is_invalidated_by_a_changed_registry_entry(tmp_path, monkeypatch) -> None:
    first = identity_cache.cached_describe(tmp_path, DINO, EncoderOptions())
    assert first["weights"] == "random-seed0"
    spec = registry.get_spec(DINO)
    monkeypatch.setitem(registry._REGISTRY, DINO, dataclasses.replace(spec, seed=7))
    again = identity_cache.cached_describe(tmp_path, DINO, EncoderOptions())
    assert again["weights"] == "random-seed7"
