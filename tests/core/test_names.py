"""Names that become paths never lead out of the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from blindpairs.cli import main
from blindpairs.names import MAX_LENGTH, check_name, slug
from blindpairs.workspace import Workspace
from evaluation.backends import default_run_name
from evaluation.params import EvaluateParams
from tests.evaluation.helpers import make_items, write_benchmark

HOSTILE = [
    "/tmp/elsewhere",
    "../../x",
    "..",
    ".",
    "",
    "<script>alert(1)</script>",
    "a/../../b",
    "C:\\\\win\\x",
    ".hidden",
    "x" * 500,
    "naïve|name\x1b[31m",
    "-rf",
]


def _inside(folder: Path, path: Path) -> bool:
    return folder.resolve() in path.resolve().parents


@pytest.mark.parametrize("name", HOSTILE)
def test_every_derived_path_stays_inside_its_folder(tmp_path: Path, name: str) -> None:
    ws = Workspace(tmp_path / "ws")
    assert _inside(ws.embeddings, ws.encoder_dir(name))
    assert _inside(ws.tiles, ws.tile_part(name))
    models = (f"openai:{name}", f"hf:{name}", f"clip:{name}", f"predictions:{name}.jsonl")
    for model in models if name else ():  # an empty model id is refused (its own test)
        run = default_run_name(model, EvaluateParams())
        assert check_name(run) == run
        assert _inside(ws.evaluation, ws.evaluation / run)
    safe = slug(name)
    assert check_name(safe) == safe and len(safe) <= MAX_LENGTH
    assert slug(safe) == safe


@pytest.mark.parametrize("name", [n for n in HOSTILE if n])
def test_an_unsafe_run_name_is_refused_before_any_write(tmp_path: Path, capsys, name) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(2))
    before = sorted(p for p in tmp_path.rglob("*"))
    rc = main(["evaluate", "-w", str(ws), "-q", "--models", "random", f"--run-name={name}"])
    assert rc == 2
    assert "run name" in capsys.readouterr().err
    assert not (ws / "evaluation").exists()
    assert sorted(p for p in tmp_path.rglob("*") if p.name not in LOCK_NAMES) == before


LOCK_NAMES = {".blindpairs.lock", ".blindpairs.lock.json"}


@pytest.mark.parametrize("name", ["../../x", "/tmp/abs", "<b>x</b>"])
def test_an_unsafe_run_name_in_yaml_is_refused_too(tmp_path: Path, capsys, name) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(2))
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"evaluate:\n  run_name: '{name}'\n")
    rc = main(["evaluate", "-w", str(ws), "-q", "--models", "random", "-c", str(cfg)])
    err = capsys.readouterr().err
    assert rc == 2 and str(cfg) in err and "run name" in err
    assert not (ws / "evaluation").exists()


def test_an_empty_run_name_means_the_default_and_a_safe_one_is_used(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(2))
    assert main(["evaluate", "-w", str(ws), "-q", "--models", "random", "--run-name", ""]) == 0
    assert main(["evaluate", "-w", str(ws), "-q", "--models", "random", "--run-name", "r-1.b"]) == 0
    runs = sorted(p.name for p in (ws / "evaluation").iterdir() if p.is_dir())
    assert runs == sorted([default_run_name("random", EvaluateParams()), "r-1.b"])
