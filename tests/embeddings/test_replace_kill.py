"""``embed --replace`` killed (SIGKILL, a real process) mid-run: recovered on the next run."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from blindpairs.cli import main
from blindpairs.errors import WorkspaceError
from blindpairs.schemas import read_embeddings, read_metadata
from blindpairs.workspace import Workspace
from embeddings import replace, store
from pairs.inputs import load_embeddings
from tests.embeddings.test_safety import DINO, PARAMS, _state, run

ROOT = Path(__file__).resolve().parents[2]
NEW_PART = r"\.tmp-\d+-\w+ -> part-"  # the rename that publishes a part


KILL_AFTER_FIRST_NEW_PART = f"""
import os, re, signal, dataclasses, sys
from pathlib import Path
from blindpairs.workspace import Workspace
from tests.embeddings.test_safety import PARAMS, run
real = os.replace
def replace(src, dst):
    real(src, dst)
    if re.search({NEW_PART!r}, Path(src).name + " -> " + Path(dst).name):
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
run(Workspace(sys.argv[1]), dataclasses.replace(PARAMS, dino_size=84, replace=True))
"""


def _status_line(ws: Path, capsys) -> str:
    assert main(["status", "-w", str(ws)]) == 0
    out = capsys.readouterr().out.splitlines()
    return next(x for x in out if x.strip().startswith("embed"))


def _check_reported_then_recovered(ws: Workspace, before: dict, tmp_path: Path, capsys) -> None:
    """From the state a kill left: status and mine report it; the same options resume,
    the old ones roll back."""
    folder = ws.encoder_dir(DINO)
    line = _status_line(ws.root, capsys)
    assert "INCOMPLETE" in line and "--replace" in line and " ok " not in line
    with pytest.raises(WorkspaceError, match="interrupted"):
        load_embeddings(ws, DINO)

    copy = Workspace(tmp_path / "copy")
    shutil.copytree(ws.root, copy.root)
    # the same options again (even without --replace): resumed, the part made is kept
    out = run(ws, dataclasses.replace(PARAMS, dino_size=84))
    assert out[DINO].embedded == 12 - 5
    ids, _, meta = read_embeddings(folder)
    assert sorted(ids) == sorted(f"a-t{i:04d}" for i in range(12))
    assert meta["preprocessing"]["size"] == 84
    # the old options: rolled back to exactly the parts there were
    assert run(copy)[DINO].embedded == 0
    assert _state(copy.encoder_dir(DINO)) == before
    for w in (ws, copy):
        assert not replace.backup_dir(w.encoder_dir(DINO)).exists()
        assert "INCOMPLETE" not in _status_line(w.root, capsys)
        assert len(load_embeddings(w, DINO).tile_ids) == 12


def test_the_state_a_killed_replace_leaves_is_reported_and_recovered(
    workspace, scene_writer, capsys, tmp_path
) -> None:
    scene_writer("a", 12)
    run(workspace)
    folder = workspace.encoder_dir(DINO)
    before = _state(folder)
    old = tmp_path / "old"
    shutil.copytree(folder, old)
    run(workspace, dataclasses.replace(PARAMS, dino_size=84, replace=True))
    # what SIGKILL after the first new part leaves (see the slow test below)
    for part in store.parts(folder)[1:]:
        part.unlink()
    backup = replace.backup_dir(folder)
    backup.mkdir()
    for part in store.parts(old):
        shutil.copy2(part, backup / part.name)
    _check_reported_then_recovered(workspace, before, tmp_path, capsys)


@pytest.mark.slow
def test_a_replace_killed_in_a_real_process_is_reported_and_recovered(
    workspace, scene_writer, capsys, tmp_path
) -> None:
    scene_writer("a", 12)
    run(workspace)
    folder = workspace.encoder_dir(DINO)
    before = _state(folder)
    killed = subprocess.run(  # embed --replace in a real process, SIGKILLed mid-run
        [sys.executable, "-c", KILL_AFTER_FIRST_NEW_PART, str(workspace.root)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    sizes = [read_metadata(p)["preprocessing"]["size"] for p in store.parts(folder)]
    assert sizes == [84]  # killed after the first new part; the old ones are set aside
    assert sorted(p.name for p in store.parts(replace.backup_dir(folder))) == sorted(before)
    _check_reported_then_recovered(workspace, before, tmp_path, capsys)


def test_status_counts_tiles_without_embeddings(workspace, scene_writer, capsys) -> None:
    scene_writer("a", 6)
    run(workspace)
    scene_writer("b", 4)  # new tiles, not embedded yet
    assert main(["status", "-w", str(workspace.root)]) == 0
    assert "INCOMPLETE (4 of 10 tiles not embedded" in capsys.readouterr().out
