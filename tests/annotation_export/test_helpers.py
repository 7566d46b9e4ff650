"""Small helpers: escaping, footprint centres, folder swap recovery, server discovery."""

from __future__ import annotations

import pytest

from annotation_export.publish import assign_numbers, clean_stale
from annotation_export.tasks import url_to_relative_path
from annotation_export.text import md_escape, terminal_safe, xml_attr
from blindpairs.footprints import format_lonlat as format_location
from blindpairs.footprints import wkb_center
from blindpairs.workspace import Workspace

from . import label_studio_server


def test_escaping() -> None:
    assert md_escape("<img src=x onerror=alert(1)> | *b*") == (
        "&lt;img src=x onerror=alert\\(1\\)&gt; \\| \\*b\\*"
    )
    assert terminal_safe("ok\x1b[31mred\nline") == "ok\\x1b[31mred\\nline"
    assert xml_attr('a "b" <c>') == "'a \"b\" &lt;c&gt;'"


def test_wkb_center_matches_shapely() -> None:
    shapely = pytest.importorskip("shapely")
    from shapely.geometry import MultiPolygon, box

    poly = box(-88.01, 43.0, -88.0, 43.02)
    assert wkb_center(poly.wkb) == pytest.approx((-88.005, 43.01))
    assert wkb_center(shapely.to_wkb(poly, byte_order=0)) == pytest.approx((-88.005, 43.01))
    multi = MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 4)])
    assert wkb_center(multi.wkb) == pytest.approx((1.5, 2.0))
    assert wkb_center(b"\x01\x02") is None
    assert format_location((-88.0, -43.5)) == "43.50000 S, 88.00000 W"


def test_local_files_url_parsing() -> None:
    assert url_to_relative_path("/data/local-files/?d=ws/a%20b.png") == "ws/a b.png"
    assert url_to_relative_path("ws/x.png") == "ws/x.png"
    with pytest.raises(ValueError, match="not a local file"):
        url_to_relative_path("https://example.com/x.png")


def test_numbers_are_kept_and_new_pairs_appended() -> None:
    assert assign_numbers({"x": 1, "y": 3}, ["z", "y", "w"]) == {"x": 1, "y": 3, "z": 4, "w": 5}


def test_clean_stale_restores_a_benchmark_lost_mid_swap(tmp_path) -> None:
    ws = Workspace(tmp_path)
    (tmp_path / ".benchmark.old-1-abc").mkdir()
    (tmp_path / ".benchmark.old-1-abc" / "benchmark.parquet").write_bytes(b"old")
    (tmp_path / ".benchmark.tmp-2-def").mkdir()
    clean_stale(ws)
    assert (ws.benchmark / "benchmark.parquet").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["benchmark"]


def test_missing_server_binary_skips_or_fails(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LABEL_STUDIO_BIN", str(tmp_path / "nope"))
    monkeypatch.setenv("LABEL_STUDIO_VENV", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(label_studio_server.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="scripts/label_studio_env.sh"):
        label_studio_server.start(tmp_path)
    monkeypatch.setenv(label_studio_server.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="BLINDPAIRS_REQUIRE_LABEL_STUDIO=1"):
        label_studio_server.start(tmp_path)
