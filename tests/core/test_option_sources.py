"""Where an option came from: the encoder choice taken whole from one place, unknown keys
listed in full, old spellings, one-off flags not recorded, and messages that name the
real flag or key."""

from __future__ import annotations

import pytest
import yaml

from blindpairs import cli, compute
from blindpairs.commands import record_params, stage_options
from blindpairs.encoder_choice import FAMILIES, EncoderChoice, encoder_family
from blindpairs.errors import BlindpairsError, ConfigError
from blindpairs.workspace import Workspace
from pairs.params import MineParams
from tests.core.cli_args import parse_args


def _mine(tmp_path, yaml_text: str, *flags: str) -> MineParams:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml_text)
    args = parse_args(["mine", "-w", str(tmp_path / "ws"), "-c", str(cfg), *flags])
    return stage_options(args, "mine", MineParams)[0]


def test_mine_s_encoder_flags_beat_an_inherited_choice_whole(tmp_path) -> None:
    # embed's 'none' is not mixed with mine's flag
    params = _mine(tmp_path, "embed: {encoders: tiny, clip: none}\n", "--encoders", "tiny")
    assert (params.clip_id, params.dino_id) == ("clip-tiny-random", "dinov2-tiny-random")
    assert params.choice_from == "the command line"
    # embed's clip override is not mixed with mine's --encoders
    params = _mine(
        tmp_path, "embed: {encoders: tiny, clip: clip-tiny-random}\n", "--encoders", "small"
    )
    assert params.chosen() == MineParams(encoders="small").chosen()
    # nor is mine's own section's
    params = _mine(tmp_path, "mine: {clip: clip-tiny-random}\n", "--encoders", "small")
    assert params.clip is None and params.clip_id == MineParams(encoders="small").clip_id


def test_without_flags_the_choice_comes_from_mine_s_section_else_embed_s(tmp_path) -> None:
    text = "embed: {encoders: tiny}\nmine: {encoders: small, dino: dinov2-tiny-random}\n"
    params = _mine(tmp_path, text)
    assert (params.encoders, params.dino) == ("small", "dinov2-tiny-random")
    assert params.choice_from.endswith("c.yaml [mine]")
    params = _mine(tmp_path, "embed: {encoders: tiny}\n")
    assert params.encoders == "tiny" and params.choice_from.endswith("c.yaml [embed]")
    assert _mine(tmp_path, "mine: {cap: 2}\n").choice_from == "the defaults"


def test_a_refused_choice_names_the_section_it_came_from(tmp_path) -> None:
    with pytest.raises(ConfigError) as err:
        _mine(tmp_path, "embed: {encoders: tiny, clip: none}\n")
    assert "clip is 'none'" in str(err.value) and "c.yaml [embed]" in str(err.value)
    # a bad value inherited from embed is reported against embed's section
    with pytest.raises(ConfigError, match=r"c.yaml \[embed\]: option 'encoders'"):
        _mine(tmp_path, "embed: {encoders: huge}\n")


def test_embed_takes_the_choice_whole_from_its_flags_too(tmp_path) -> None:
    from embeddings.params import EmbedParams

    cfg = tmp_path / "c.yaml"
    cfg.write_text("embed: {encoders: small, clip: none}\n")
    args = parse_args(["embed", "-w", str(tmp_path / "ws"), "-c", str(cfg), "--encoders", "tiny"])
    params, _ = stage_options(args, "embed", EmbedParams, compute=True)
    assert params.encoder_ids() == {"clip": "clip-tiny-random", "dino": "dinov2-tiny-random"}


@pytest.mark.parametrize("stage", ["tile", "embed", "mine"])
def test_an_unknown_key_lists_every_key_of_the_section(tmp_path, stage: str) -> None:
    from embeddings.params import EmbedParams
    from mining.params import TileParams

    params_cls = {"tile": TileParams, "embed": EmbedParams, "mine": MineParams}[stage]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"{stage}: {{schedular: 'tcp://10.0.0.5:8786'}}\n")
    args = parse_args([stage, "-w", str(tmp_path / "ws"), "-c", str(cfg)])
    with pytest.raises(ConfigError, match="unknown option 'schedular'") as err:
        stage_options(args, stage, params_cls, compute=True)
    known = str(err.value).split("(known: ")[1].rstrip(")").split(", ")
    assert {"scheduler", "workers", "force" if stage != "embed" else "encoders"} <= set(known)


def test_the_encoder_family_rule_agrees_with_the_registry() -> None:
    from embeddings import registry

    for encoder_id in registry.list_encoders():
        assert encoder_family(encoder_id) == registry.get_spec(encoder_id).family, encoder_id
    assert set(FAMILIES.values()) == set(registry.FAMILIES)


@pytest.mark.parametrize(
    ("choice", "problem"),
    [
        ({"clip": "dinov2-tiny-random"}, "clip 'dinov2-tiny-random' (from the params): not a clip"),
        ({"encoders": "tiny", "dino": "clip-tiny-random"}, "not a dinov2 encoder"),
        ({"clip": "none", "dino": "none"}, "both 'none'"),
    ],
)
def test_encoder_ids_checks_the_family_and_none(choice: dict, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        EncoderChoice(**choice).encoder_ids()
    with pytest.raises(ConfigError, match="^mine options: "):
        MineParams(**choice)
    assert EncoderChoice(encoders="tiny", dino="none").encoder_ids() == {"clip": "clip-tiny-random"}
    with pytest.raises(ConfigError, match="needs both encoders, but dino is 'none'"):
        EncoderChoice(encoders="tiny", dino="none").encoder_ids(need_both=True)


def test_no_fresh_is_a_deprecated_alias_of_no_force(tmp_path, capsys) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("mine: {force: true}\n")
    args = parse_args(["mine", "-w", str(tmp_path / "ws"), "-c", str(cfg), "--no-fresh"])
    params, _ = stage_options(args, "mine", MineParams)
    assert params.force is False
    assert "--no-fresh is deprecated; use --no-force" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("stage", "argv", "key"),
    [
        ("tile", ["tile", "a.tif", "--force", "--drop-failed"], "force"),
        ("mine", ["mine", "--encoders", "tiny", "--force"], "force"),
        ("mine", ["mine", "--encoders", "tiny", "--fresh"], "force"),
    ],
)
def test_a_one_off_flag_is_not_recorded_as_a_standing_setting(tmp_path, stage, argv, key) -> None:
    from mining.params import TileParams

    params_cls = {"tile": TileParams, "mine": MineParams}[stage]
    ws = tmp_path / "ws"
    args = parse_args([*argv, "-w", str(ws)])
    params, where = stage_options(args, stage, params_cls, compute=True)
    assert getattr(params, key) is True  # this run is forced
    record_params(args, stage, params, where)
    recorded = yaml.safe_load(Workspace(ws).config.read_text())[stage]
    assert recorded[key] is False and recorded.get("drop_failed", False) is False
    # what the config file says is recorded as it is
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"{stage}: {{{key}: true}}\n")
    args = parse_args([*argv, "-w", str(ws), "-c", str(cfg)])
    params, where = stage_options(args, stage, params_cls, compute=True)
    record_params(args, stage, params, where)
    assert yaml.safe_load(Workspace(ws).config.read_text())[stage][key] is True


def test_help_and_errors_name_real_flags_and_keys(tmp_path, capsys) -> None:
    parsers = cli.build_parser()._defaults["_stage_parsers"]
    tile_help = " ".join(parsers["tile"].format_help().split())
    assert "[scenes; default: the config file's 'scenes:' list]" in tile_help
    assert "(default: auto) [bands; default: not set]" in tile_help  # not an empty string
    for name, stage_parser in parsers.items():
        assert "default: ]" not in stage_parser.format_help(), name
    mine_help = " ".join(parsers["mine"].format_help().split())
    assert "'none': no CLIP" not in mine_help and "mine refuses it" in mine_help
    cfg = tmp_path / "c.yaml"
    cfg.write_text("tile: {scenes: 3}\n")
    assert cli.main(["tile", "-w", str(tmp_path / "ws"), "-c", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "--scenes" not in err and "option 'scenes' (the positional SCENES)" in err
    assert cli.main(["mine", "-w", str(tmp_path / "ws"), "--clip", "none"]) == 2
    err = capsys.readouterr().err
    assert "error: mine options: needs both encoders" in err and "mine: mine" not in err


def test_an_unreachable_scheduler_says_how_to_stop_using_it(monkeypatch) -> None:
    import distributed

    from pairs import runner

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError("connection refused")

    monkeypatch.setattr(distributed, "Client", refuse)
    with pytest.raises(ConfigError) as err, compute.dask_client("tcp://127.0.0.1:9"):
        pass
    assert "--scheduler" in str(err.value) and "'scheduler:' config key" in str(err.value)
    monkeypatch.setattr(compute, "dask_client", refuse)
    with pytest.raises(BlindpairsError) as err, runner.dask_runner("tcp://127.0.0.1:9"):
        pass
    assert "--scheduler" in str(err.value) and "'scheduler:' config key" in str(err.value)
