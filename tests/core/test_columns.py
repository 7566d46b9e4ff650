"""blindpairs.columns: the tile stage's Arrow tables built from buffers, without pandas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from blindpairs import columns
from blindpairs.schemas import TILES_SCHEMA

ROWS = {
    "tile_id": ["a", "", "é-ü"],
    "scene_id": ["s", "s", "t"],
    "scene_uri": ["/x.tif", "/x.tif", "s3://b/y.tif"],
    "row_off": [0, 512, -3],
    "col_off": [1, 2, 2**40],
    "width": [512, 512, 64],
    "height": [512, 512, 64],
    "proj:code": ["EPSG:4326", None, "EPSG:32633"],
    "proj:transform": [[1.0, 2, 3, 4, 5, 6], [0.5] * 6, None],
    "bands": [[1, 2, 3], [4], None],
    "gsd_m": [0.5, None, 10.0],
    "valid_fraction": [1.0, 0.5, np.float32(0.25)],
    "image": [b"\x89PNG\r\n", b"", bytes(range(256))],
    "tiling": ["t1"] * 3,
    "geometry": [b"g1", b"g22", b"g333"],
}


def test_the_table_equals_pyarrows_conversion_of_the_same_lists_nulls_included():
    built = columns.table(ROWS, TILES_SCHEMA)
    built.validate(full=True)
    assert built.equals(pa.table(ROWS, schema=TILES_SCHEMA))
    assert built.column("proj:code").null_count == 1
    assert built.column("bands").to_pylist() == [[1, 2, 3], [4], None]


def test_an_empty_table_has_the_schema_and_no_rows():
    empty = columns.empty(TILES_SCHEMA)
    empty.validate(full=True)
    assert empty.equals(TILES_SCHEMA.empty_table())


@pytest.mark.parametrize(
    ("values", "type_"),
    [
        ([1, None, 3], pa.int32()),
        ([1.5, 2.5], pa.float16()),
        ([], pa.string()),
        ([None, None], pa.binary()),
        ([[1.0, 2.0], None], pa.list_(pa.float32(), 2)),
    ],
)
def test_an_array_equals_pyarrows_for_each_type_it_builds(values, type_):
    built = columns.array(values, type_)
    built.validate(full=True)
    assert built.equals(pa.array(values, type_))


def test_a_type_without_a_builder_is_refused_by_name():
    with pytest.raises(TypeError, match="timestamp"):
        columns.array([0], pa.timestamp("s"))


def test_a_fixed_size_list_value_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="6 items"):
        columns.array([[1.0, 2.0]], pa.list_(pa.float64(), 6))


def test_a_missing_column_is_named():
    with pytest.raises(KeyError, match="geometry"):
        columns.table({k: v for k, v in ROWS.items() if k != "geometry"}, TILES_SCHEMA)


def test_the_tile_stage_does_not_import_pandas(tmp_path):
    """pyarrow's conversions of Python lists import pandas (0.25 s of the GIL, paid while the
    first scene was planned): a tile run, from a fresh process, leaves it unimported."""
    code = f"""
import sys
from pathlib import Path
from tests.mining.helpers import tile
from tests.mining.rasters import textured, write_raster
write_raster(Path({str(tmp_path)!r}) / "a.tif", textured((3, 200, 200), "uint16", 0))
summary = tile(Path({str(tmp_path)!r}) / "ws", [Path({str(tmp_path)!r}) / "a.tif"])
assert summary.tiles_written > 0, summary.lines()
print("pandas" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout
