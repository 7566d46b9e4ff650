"""``blindpairs embed`` / ``blindpairs encoders`` and the offline-weights message."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from blindpairs.cli import main
from blindpairs.schemas import read_embeddings
from embeddings.registry import list_encoders

ARGS = [
    "--encoders",
    "tiny",
    "--compute-dtype",
    "float32",
    "--device",
    "cpu",
    "-q",
    "--workers",
    "1",
]


def test_encoders_command_lists_every_encoder(capsys) -> None:
    assert main(["encoders"]) == 0
    out = capsys.readouterr().out
    for encoder_id in list_encoders():
        assert encoder_id in out
    assert "random" in out


def test_embed_command_runs_records_params_and_then_has_nothing_to_do(
    workspace, scene_writer, capsys
) -> None:
    scene_writer("a", 3, bad=[1])
    code = main(["embed", "-w", str(workspace.root), *ARGS])
    out = capsys.readouterr().out
    assert code == 1  # a tile failed: reported, not fatal to the others
    assert "2 embedded" in out and "1 failed" in out and "cannot decode image" in out
    ids, _, _ = read_embeddings(workspace.encoder_dir("clip-tiny-random"))
    assert len(ids) == 2
    recorded = yaml.safe_load(workspace.config.read_text())["embed"]
    assert recorded["encoders"] == "tiny" and recorded["compute_dtype"] == "float32"
    assert main(["embed", "-w", str(workspace.root), *ARGS]) == 0
    out = capsys.readouterr().out
    assert "nothing to do" in out and "1 failed earlier" in out


def test_bad_option_fails_fast_with_what_to_change(workspace, scene_writer, capsys) -> None:
    scene_writer("a", 1)
    assert main(["embed", "-w", str(workspace.root), *ARGS, "--dino-size", "100"]) == 2
    assert "multiple of the patch size 14" in capsys.readouterr().err
    assert main(["embed", "-w", str(workspace.root), *ARGS, "--clip", "clip:nope"]) == 2
    assert "known encoders" in capsys.readouterr().err


def test_offline_without_cache_names_the_encoder_and_the_fix(tmp_path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    env.pop("HF_HUB_CACHE", None)
    code = (
        "from embeddings.registry import create_encoder\n"
        "for e in ('clip:ViT-L-14/openai', 'dinov2:vit_large_patch14_dinov2.lvd142m'):\n"
        "    try:\n"
        "        create_encoder(e)\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__, exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    ).stdout.splitlines()
    assert len(out) == 2
    for line, encoder_id, flag in zip(
        out,
        ("clip:ViT-L-14/openai", "dinov2:vit_large_patch14_dinov2.lvd142m"),
        ("--clip-checkpoint", "--dino-checkpoint"),
        strict=True,
    ):
        assert line.startswith("WeightsUnavailableError")
        assert repr(encoder_id) in line and flag in line and "HF_HOME" in line
