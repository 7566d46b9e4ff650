"""One entry point shape per stage, compute as config keys, one spelling of redo, and one
encoder choice shared by embed and mine."""

from __future__ import annotations

import importlib
import inspect

import pytest
import yaml

from blindpairs import cli, stages
from blindpairs.commands import record_params, stage_options
from blindpairs.compute import Compute
from blindpairs.errors import ConfigError
from blindpairs.workspace import Workspace
from pairs.params import MineParams
from tests.core.cli_args import parse_args


@pytest.mark.parametrize("stage", stages.STAGES, ids=lambda s: s.verb)
def test_every_stage_runs_as_run_workspace_params_compute(stage: stages.Stage) -> None:
    run = importlib.import_module(stage.entry_module).run
    assert list(inspect.signature(run).parameters) == ["workspace", "params", "compute"]


def test_compute_comes_from_the_stage_section_and_the_flag_wins(tmp_path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("mine: {scheduler: 'tcp://10.0.0.5:8786', workers: 2, cap: 3}\n")
    ws = tmp_path / "ws"
    args = parse_args(["mine", "-w", str(ws), "-c", str(cfg), "--workers", "5", "-q"])
    params, compute = stage_options(args, "mine", MineParams, compute=True)
    assert compute == Compute(scheduler="tcp://10.0.0.5:8786", workers=5)
    assert compute.quiet and params.cap == 3
    record_params(args, "mine", params, compute)
    recorded = yaml.safe_load(Workspace(ws).config.read_text())["mine"]
    assert recorded["scheduler"] == "tcp://10.0.0.5:8786" and recorded["workers"] == 5
    assert recorded["cap"] == 3 and "quiet" not in recorded


def test_compute_keys_are_refused_by_stages_that_do_not_run_on_dask(tmp_path) -> None:
    from report.params import ReportParams

    cfg = tmp_path / "c.yaml"
    cfg.write_text("report: {scheduler: 'tcp://10.0.0.5:8786'}\n")
    args = parse_args(["report", "-w", str(tmp_path / "ws"), "-c", str(cfg)])
    with pytest.raises(ConfigError, match=r"c.yaml \[report\]: unknown option 'scheduler'"):
        stage_options(args, "report", ReportParams)


def test_bad_workers_value_names_the_option(tmp_path) -> None:
    args = parse_args(["mine", "-w", str(tmp_path / "ws"), "--workers", "0"])
    with pytest.raises(ConfigError, match="'workers'"):
        stage_options(args, "mine", MineParams, compute=True)


def test_redo_is_force_everywhere_and_mine_s_old_fresh_still_works(tmp_path, capsys) -> None:
    for verb in ("tile", "mine", "ingest", "evaluate", "report"):
        help_text = cli.build_parser()._defaults["_stage_parsers"][verb].format_help()
        assert "--force" in help_text and "--fresh" not in help_text, verb
    ws = str(tmp_path / "ws")
    params, _ = stage_options(parse_args(["mine", "-w", ws, "--fresh"]), "mine", MineParams)
    assert params.force
    assert capsys.readouterr().err.strip().splitlines() == [
        "blindpairs: warning: --fresh is deprecated; use --force"
    ]
    cfg = tmp_path / "c.yaml"
    cfg.write_text("mine: {fresh: true}\n")
    params, _ = stage_options(parse_args(["mine", "-w", ws, "-c", str(cfg)]), "mine", MineParams)
    assert params.force
    err = capsys.readouterr().err
    assert "'fresh' is deprecated; use 'force'" in err and str(cfg) in err


def test_the_encoder_choice_is_taken_whole_from_embed_unless_mine_sets_it(tmp_path) -> None:
    cfg = tmp_path / "c.yaml"
    ws = str(tmp_path / "ws")
    cfg.write_text("embed: {encoders: small, dino: dinov2-tiny-random}\nmine: {cap: 2}\n")
    params, _ = stage_options(parse_args(["mine", "-w", ws, "-c", str(cfg)]), "mine", MineParams)
    assert (params.encoders, params.dino, params.cap) == ("small", "dinov2-tiny-random", 2)
    assert params.clip_id == "clip:ViT-B-32/laion2b_s34b_b79k"
    # a mine section that sets any part of the choice sets all of it
    cfg.write_text("embed: {encoders: small, dino: dinov2-tiny-random}\nmine: {encoders: tiny}\n")
    params, _ = stage_options(parse_args(["mine", "-w", ws, "-c", str(cfg)]), "mine", MineParams)
    assert (params.clip_id, params.dino_id) == ("clip-tiny-random", "dinov2-tiny-random")
    assert params.dino is None


def test_the_encoder_choice_means_the_same_in_embed_and_mine() -> None:
    from embeddings.params import EmbedParams

    for kw in ({}, {"encoders": "tiny"}, {"encoders": "small", "clip": "clip-tiny-random"}):
        assert EmbedParams(**kw).chosen() == MineParams(**kw).chosen()
    assert EmbedParams(clip="none").chosen().keys() == {"dino"}
    with pytest.raises(ConfigError, match="^mine options: needs both encoders, but clip is .none."):
        MineParams(clip="none")
