"""The shared core: atomic writes, config resolution, the resolved config file."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from subprocess import PIPE

import pytest
import yaml

from blindpairs import atomic, lock
from blindpairs.config import float_tuple, option, record_resolved, resolve
from blindpairs.errors import ConfigError


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a" / "f.json"
    atomic.write_json(target, {"x": 1})
    atomic.write_json(target, {"x": 2})
    assert yaml.safe_load(target.read_text()) == {"x": 2}
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]


def test_identical_content_keeps_the_file_untouched(tmp_path):
    target = tmp_path / "f.txt"
    atomic.write_text(target, "same")
    os.utime(target, ns=(1, 1))
    atomic.write_text(target, "same")
    assert target.stat().st_mtime_ns == 1
    atomic.write_text(target, "other")
    assert target.read_text() == "other" and target.stat().st_mtime_ns != 1


def test_failure_inside_the_block_keeps_the_old_file(tmp_path):
    target = tmp_path / "f.txt"
    atomic.write_text(target, "finished work")
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "finished work"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_are_removed_but_never_a_live_runs(tmp_path):
    dead = f"part-a.parquet.tmp-{_dead_pid()}-abc"
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=PIPE)
    try:
        (tmp_path / dead).write_text("x")
        (tmp_path / f"part-b.parquet.tmp-{live.pid}-abc").write_text("being written")
        (tmp_path / f"part-c.parquet.tmp-{os.getpid()}-abc").write_text("ours, maybe live")
        (tmp_path / "part-a.parquet").write_text("y")
        removed = atomic.clean_stale_temporaries(tmp_path)
        assert [p.name for p in removed] == [dead]
        assert len(list(tmp_path.iterdir())) == 3
        # under the workspace lock no other process may be writing: the live one's goes too
        with lock.workspace_lock(tmp_path, "test"):
            removed = atomic.clean_stale_temporaries(tmp_path)
        assert [p.name for p in removed] == [f"part-b.parquet.tmp-{live.pid}-abc"]
    finally:
        live.communicate(b"")


def test_a_vanished_temporary_is_an_error_not_a_silent_skip(tmp_path):
    target = tmp_path / "f.txt"
    atomic.write_text(target, "finished work")
    with (
        pytest.raises(atomic.VanishedTemporary, match="vanished"),
        atomic.atomic_path(target) as tmp,
    ):
        tmp.write_text("new")
        tmp.unlink()  # as another run's clean-up would
    assert target.read_text() == "finished work"


@dataclass(frozen=True)
class P:
    size: int = option(512, "tile size")
    ratio: float = option(0.5, "a ratio")
    flag: bool = option(False, "a flag")
    pct: tuple[float, ...] = option((2.0, 98.0), "percentiles", parse=float_tuple)


def test_writeback_starts_past_the_threshold_and_leaves_the_bytes(tmp_path, monkeypatch):
    """The offset moves only once WRITEBACK_BYTES were written since it; the file keeps every
    byte (DONTNEED drops no dirty page)."""
    monkeypatch.setattr(atomic, "WRITEBACK_BYTES", 1000)
    calls = []
    if hasattr(os, "posix_fadvise"):
        real = os.posix_fadvise
        monkeypatch.setattr(os, "posix_fadvise", lambda *a: (calls.append(a[1:3]), real(*a)))
    path = tmp_path / "f.bin"
    chunks = [os.urandom(n) for n in (600, 300, 200, 1500)]
    offsets = []
    with open(path, "wb", buffering=0) as fh:
        since = 0
        for chunk in chunks:
            fh.write(chunk)
            since = atomic.start_writeback(fh, since)
            offsets.append(since)
    assert path.read_bytes() == b"".join(chunks)
    if hasattr(os, "posix_fadvise"):
        assert offsets == [0, 0, 1100, 2600]
        assert calls == [(0, 1100), (1100, 1500)]


def test_precedence_default_file_flag():
    assert resolve(P).size == 512
    assert resolve(P, {"size": 256}).size == 256
    p = resolve(P, {"size": 256, "flag": "yes", "pct": [1, 99]}, {"size": 128})
    assert (p.size, p.flag, p.pct) == (128, True, (1.0, 99.0))


def test_bad_values_and_unknown_keys_name_the_source():
    with pytest.raises(ConfigError, match="cfg.yaml.*'size'"):
        resolve(P, {"size": "big"}, section_source="cfg.yaml")
    with pytest.raises(ConfigError, match="unknown option 'sise'.*size"):
        resolve(P, {"sise": 1})
    with pytest.raises(ConfigError, match="command line.*true or false"):
        resolve(P, None, {"flag": "maybe"})


def test_record_resolved_merges_sections_and_skips_identical(tmp_path):
    cfg = tmp_path / "config.yaml"
    record_resolved(cfg, "tile", resolve(P))
    record_resolved(cfg, "embed", resolve(P, {"size": 1}))
    data = yaml.safe_load(cfg.read_text())
    assert data["tile"]["size"] == 512 and data["embed"]["size"] == 1
    assert data["tile"]["pct"] == [2.0, 98.0]
    os.utime(cfg, ns=(1, 1))
    record_resolved(cfg, "tile", resolve(P))
    assert cfg.stat().st_mtime_ns == 1
