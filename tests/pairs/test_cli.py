"""``blindpairs mine`` from the command line."""

from __future__ import annotations

import pytest
import yaml

from blindpairs.cli import main
from blindpairs.workspace import Workspace
from tests.pairs.world import make_world, write_world


def test_cli_mines_records_params_and_then_says_up_to_date(ws: Workspace, capsys) -> None:
    write_world(ws, make_world(100, n_blind=3, n_decoys=1))
    assert main(["mine", "-w", str(ws.root), "-q", "--encoders", "tiny", "--cap", "2"]) == 0
    out = capsys.readouterr().out
    assert "3 pairs selected" in out and "100 tiles" in out
    recorded = yaml.safe_load(ws.config.read_text())["mine"]
    assert recorded["cap"] == 2 and recorded["encoders"] == "tiny"
    assert main(["mine", "-w", str(ws.root), "-q", "--encoders", "tiny", "--cap", "2"]) == 0
    assert "up to date (3 pairs)" in capsys.readouterr().out


def test_cli_config_section_and_bad_values_fail_fast(ws: Workspace, tmp_path, capsys) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("mine: {encoders: tiny, tau_clip: 1.5}\n")
    assert main(["mine", "-w", str(ws.root), "-c", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "tau_clip" in err
    assert not ws.pairs_dir.exists()


def test_cli_explicit_encoder_ids_override_the_preset(ws: Workspace, capsys) -> None:
    write_world(ws, make_world(30, n_blind=1, n_decoys=0))
    code = main(
        [
            "mine",
            "-w",
            str(ws.root),
            "-q",
            "--clip",
            "clip-tiny-random",
            "--dino",
            "dinov2-tiny-random",
        ]
    )
    assert code == 0 and "1 pairs selected" in capsys.readouterr().out


def test_help_says_what_workers_mean_without_a_scheduler(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["mine", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--workers N threads when no scheduler is given" in help_text
    assert "searches in this process" in help_text
    assert "IVF lists probed and scored N at a time" in help_text


def test_an_embed_only_config_sets_mine_s_encoders_too(ws: Workspace, tmp_path, capsys) -> None:
    """The encoder choice is one option: a YAML with only ``embed: {encoders: tiny}`` must not
    make mine fall back to the paper encoders (and find no embeddings)."""
    write_world(ws, make_world(30, n_blind=1, n_decoys=0))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("embed: {encoders: tiny}\n")
    assert main(["mine", "-w", str(ws.root), "-q", "-c", str(cfg)]) == 0
    assert "1 pairs selected" in capsys.readouterr().out
    assert yaml.safe_load(ws.config.read_text())["mine"]["encoders"] == "tiny"


def test_equal_encoder_choices_spelled_differently_are_up_to_date(ws: Workspace, capsys) -> None:
    """mine's fingerprint holds the resolved encoder ids, not how they were spelled, and no
    run option (force, batch, scheduler, workers)."""
    from blindpairs import schemas

    write_world(ws, make_world(30, n_blind=1, n_decoys=0))
    assert main(["mine", "-w", str(ws.root), "-q", "--encoders", "tiny"]) == 0
    capsys.readouterr()
    same = [
        ["--encoders", "tiny", "--clip", "clip-tiny-random"],
        ["--encoders", "small", "--clip", "clip-tiny-random", "--dino", "dinov2-tiny-random"],
        ["--encoders", "tiny", "--batch", "7", "--workers", "1"],
    ]
    for flags in same:
        assert main(["mine", "-w", str(ws.root), "-q", *flags]) == 0
        assert "up to date" in capsys.readouterr().out, flags
    params = schemas.read_metadata(ws.pairs)["params"]
    assert (params["clip"], params["dino"]) == ("clip-tiny-random", "dinov2-tiny-random")
    assert not {"encoders", "force", "batch", "scheduler", "workers"} & params.keys()
