"""Bad input: reported and left out, or a clear error naming the file."""

from __future__ import annotations

import json
import sys

import numpy as np
import pyarrow as pa
import pytest

from blindpairs.errors import BlindpairsError, InputError, WorkspaceError
from blindpairs.workspace import Workspace
from pairs.inputs import align
from pairs.mine import run_mine
from pairs.params import MineParams
from tests.pairs.inputs import CLIP, DINO, write_embeddings
from tests.pairs.world import make_world, write_world

TINY = MineParams(encoders="tiny")


def test_tiles_missing_an_embedding_are_reported_and_left_out(ws: Workspace) -> None:
    world = make_world(50, n_blind=2, n_decoys=0)
    write_world(ws, world)
    # drop the DINOv2 vector of one planted tile
    write_embeddings(ws, DINO, world.ids[1:], world.dino[1:])
    summary = run_mine(ws, TINY, quiet=True)
    assert summary.left_out == {world.ids[0]: f"no embedding from {DINO}"}
    assert summary.selected == 1
    left = json.loads((ws.pairs_dir / "left_out.json").read_text())
    assert left == [{"tile_id": world.ids[0], "reason": f"no embedding from {DINO}"}]


def _nan_in_part_bad(ws: Workspace, encoder: str, x: np.ndarray, ids: list[str]) -> None:
    """``encoder``'s vectors ``x`` with a NaN in the 4th, whose first 5 rows go to
    part-bad.parquet."""
    bad = x[:5].copy()
    bad[3, 0] = np.nan
    write_embeddings(ws, encoder, ids[:5], bad, part="part-bad.parquet")
    write_embeddings(ws, encoder, ids[5:], x[5:])


def test_nan_vector_names_the_part(ws: Workspace) -> None:
    world = make_world(20, 0, 0)
    write_world(ws, world)
    _nan_in_part_bad(ws, CLIP, world.clip, world.ids)
    with pytest.raises(InputError, match=r"part-bad\.parquet.*NaN"):
        run_mine(ws, TINY, quiet=True)


def test_nan_dinov2_vector_read_after_the_search_still_names_the_part(
    ws: Workspace, monkeypatch
) -> None:
    """Above the hold limit DINOv2 rows are first read after the CLIP search: the error
    is the same, and nothing is written."""
    from pairs import inputs as inputs_mod

    monkeypatch.setattr(inputs_mod, "HOLD_FLOAT32_MAX", 0)
    world = make_world(20, n_blind=2, n_decoys=0)
    write_world(ws, world)
    _nan_in_part_bad(ws, DINO, world.dino, world.ids)
    with pytest.raises(InputError, match=r"part-bad\.parquet.*NaN"):
        run_mine(ws, TINY, quiet=True)
    assert not ws.pairs.exists()


def test_two_encoders_in_one_folder_is_an_error(ws: Workspace) -> None:
    world = make_world(20, 0, 0)
    write_world(ws, world)
    write_embeddings(
        ws, CLIP, world.ids[:5], world.clip[:5], part="part-z.parquet", encoder_id="clip:other"
    )
    with pytest.raises(InputError, match="mixed"):
        run_mine(ws, TINY, quiet=True)


def test_wrong_dimension_is_an_error(ws: Workspace) -> None:
    world = make_world(20, 0, 0)
    write_world(ws, world)
    write_embeddings(
        ws,
        CLIP,
        ["extra"],
        np.ones((1, 65), np.float32) / np.sqrt(65),
        part="part-z.parquet",
        dim=64,
    )
    with pytest.raises(InputError, match="part-z.parquet"):
        run_mine(ws, TINY, quiet=True)


def test_folder_of_another_encoder_is_an_error(ws: Workspace) -> None:
    world = make_world(20, 0, 0)
    write_world(ws, world)
    for p in ws.encoder_dir(CLIP).glob("*.parquet"):
        p.unlink()
    write_embeddings(ws, CLIP, world.ids, world.clip, encoder_id="clip:something-else")
    with pytest.raises(InputError, match="something-else"):
        run_mine(ws, TINY, quiet=True)


def test_missing_stage_outputs_say_what_to_run(ws: Workspace) -> None:
    with pytest.raises(WorkspaceError, match="blindpairs tile"):
        run_mine(ws, TINY, quiet=True)
    write_world(ws, make_world(5, 0, 0))
    with pytest.raises(WorkspaceError, match="blindpairs embed"):
        run_mine(ws, MineParams(encoders="small"), quiet=True)


def test_unnormalised_vectors_are_normalised(ws: Workspace) -> None:
    world = make_world(100, n_blind=3, n_decoys=0)
    world.clip *= 3.0
    write_world(ws, world)
    run_mine(ws, TINY, quiet=True)
    from pyarrow import parquet as pq

    assert {r["pair_id"] for r in pq.read_table(ws.pairs).to_pylist()} == world.blind


def test_missing_faiss_says_how_to_install(ws: Workspace, monkeypatch) -> None:
    from pairs import faiss_import

    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(BlindpairsError, match=r"blindpairs\[cpu\]"):
        faiss_import.import_faiss()


def test_tile_with_a_bad_footprint_is_left_out(ws: Workspace) -> None:
    import pyarrow as pa
    from pyarrow import parquet as pq

    world = make_world(40, n_blind=2, n_decoys=0)
    write_world(ws, world)
    part = ws.tile_part("s1")
    table = pq.read_table(part)
    geoms = table.column("geometry").to_pylist()
    geoms[0] = b"not wkb"
    table = table.set_column(
        table.schema.get_field_index("geometry"), "geometry", pa.array(geoms, pa.binary())
    )
    pq.write_table(table, part)
    summary = run_mine(ws, TINY, quiet=True)
    assert summary.left_out == {world.ids[0]: "footprint geometry missing, empty or not a polygon"}
    assert summary.tiles == 39 and summary.selected == 1


def test_float16_vectors_are_not_reported_as_unnormalised(ws: Workspace, caplog) -> None:
    world = make_world(100, n_blind=3, n_decoys=0)
    write_world(ws, world)
    write_embeddings(ws, CLIP, world.ids, world.clip, dtype=np.float16)
    write_embeddings(ws, DINO, world.ids, world.dino, dtype=np.float16)
    with caplog.at_level("WARNING", logger="pairs"):
        run_mine(ws, TINY, quiet=True)
    assert "not L2-normalised" not in caplog.text
    from pyarrow import parquet as pq

    from pairs.inputs import load_embeddings

    assert {r["pair_id"] for r in pq.read_table(ws.pairs).to_pylist()} == world.blind
    norms = np.linalg.norm(load_embeddings(ws, CLIP).vectors, axis=1)
    assert np.abs(norms - 1.0).max() < 1e-6  # rescaled silently


def test_unnormalised_float16_vectors_still_warn(ws: Workspace, caplog) -> None:
    world = make_world(20, n_blind=0, n_decoys=0)
    write_world(ws, world)
    write_embeddings(ws, CLIP, world.ids, world.clip * 1.01, dtype=np.float16)
    with caplog.at_level("WARNING", logger="pairs"):
        run_mine(ws, TINY, quiet=True)
    assert "20 vectors not L2-normalised" in caplog.text


def test_the_contract_reader_refuses_two_encoders_in_one_folder(ws: Workspace) -> None:
    """``schemas.read_embeddings`` (the reader other stages and tools use) applies the
    same identity check as mine's streamed reader, naming the odd part."""
    from blindpairs import schemas

    world = make_world(20, 0, 0)
    write_world(ws, world)
    write_embeddings(
        ws, CLIP, world.ids[:5], world.clip[:5], part="part-z.parquet", encoder_id="clip:other"
    )
    with pytest.raises(InputError, match=r"part-z\.parquet.*'clip:other'.*mixed with.*encoder_id"):
        schemas.read_embeddings(ws.encoder_dir(CLIP))


def test_align_keeps_first_rows_sorted_by_id_and_reports_the_rest_in_order() -> None:
    tiles = pa.table({"tile_id": ["d", "b", "é", "a", "b", "x", "c"], "n": list(range(7))})
    clip = ("clip", ["a", "b", "c", "é", "z", "d"])
    dino = ("dino", ["c", "é", "b", "a", "y", "z"])
    al = align(tiles, clip, dino)
    assert al.ids == ["a", "b", "c", "é"]
    assert al.tiles.column("n").to_pylist() == [3, 1, 6, 2]  # the first row of "b"
    assert al.clip_rows.tolist() == [0, 1, 2, 3]
    assert al.dino_rows.tolist() == [3, 2, 0, 1]
    assert list(al.left_out.items()) == [
        ("d", "no embedding from dino"),
        ("x", "no embedding from clip and dino"),
        ("z", "embedded by clip but not in tiles/"),
        ("y", "embedded by dino but not in tiles/"),
    ]
