"""Every benchmark format gives the same typed items."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blindpairs.errors import ConfigError, InputError
from evaluation.loaders import detect_format, load_benchmark
from tests.evaluation.helpers import make_items, png, write_benchmark


def _key(items):
    return [(i.index, i.question, i.option_a, i.option_b, i.answer, i.image_hash) for i in items]


@pytest.fixture
def bench(tmp_path: Path) -> tuple[Path, list[dict]]:
    rows = make_items(3)
    return write_benchmark(tmp_path / "benchmark", rows), rows


def test_all_layouts_of_our_benchmark_agree(bench) -> None:
    folder, rows = bench
    ours = load_benchmark(folder)
    assert ours.format == "blindpairs" and not ours.problems
    assert [i.index for i in ours.items] == list(range(1, 7))
    assert ours.items[0].category == rows[0]["category"] and ours.items[0].pair_id == "pair001"
    mmvp = load_benchmark(folder, "mmvp")
    tsv = load_benchmark(folder / "benchmark.tsv")
    assert tsv.format == "tsv"
    assert _key(ours.items) == _key(mmvp.items) == _key(tsv.items)
    assert tsv.items[0].category == rows[0]["category"]
    assert ours.fingerprint() == mmvp.fingerprint()


def test_downloaded_mmvp_folder(tmp_path: Path) -> None:
    folder = tmp_path / "MMVP"
    (folder / "MMVP Images").mkdir(parents=True)
    with open(folder / "Questions.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["lndex", "Index", "Question", "Options", "Correct Answer"][1:])
        w.writerow([1, "Is the door open?", "(a) Open (b) Closed", "(a)"])
        w.writerow([2, "Is the door open?", "(a) Open (b) Closed", "(b)"])
    for i in (1, 2):
        from PIL import Image

        Image.new("RGB", (8, 8), (i * 50, 0, 0)).save(folder / "MMVP Images" / f"{i}.jpg")
    loaded = load_benchmark(folder)
    assert loaded.format == "mmvp"
    assert [(i.option_a, i.option_b, i.answer) for i in loaded.items] == [
        ("Open", "Closed", "a"),
        ("Open", "Closed", "b"),
    ]


def test_hf_parquet_with_image_struct(tmp_path: Path) -> None:
    rows = make_items(2)
    hf_rows = [
        {
            "Index": r["index"],
            "Question": r["question"],
            "Options": f"(a) {r['option_a']} (b) {r['option_b']}",
            "Correct Answer": f"({r['answer']})",
            "image": {"bytes": r["image"], "path": f"{r['index']}.png"},
        }
        for r in rows
    ]
    data = tmp_path / "rsmmvp" / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(hf_rows), data / "test-00000-of-00001.parquet")
    loaded = load_benchmark(tmp_path / "rsmmvp")
    assert loaded.format == "parquet"
    ours = write_benchmark(tmp_path / "ours", rows)
    assert _key(loaded.items) == _key(load_benchmark(ours).items)


def test_bad_rows_are_listed_and_the_rest_loaded(tmp_path: Path) -> None:
    rows = make_items(2)
    rows[1]["image"] = b"not an image"
    rows[2]["answer"] = "c"
    folder = write_benchmark(tmp_path / "b", rows)
    loaded = load_benchmark(folder)
    assert [i.index for i in loaded.items] == [1, 4]
    reasons = " ".join(p for _, p in loaded.problems)
    assert "image" in reasons and "answer" in reasons
    assert all("benchmark.parquet row" in ref for ref, _ in loaded.problems)


def test_missing_or_empty_benchmarks_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="run ingest or pass --benchmark"):
        load_benchmark(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no benchmark found"):
        detect_format(tmp_path / "empty")
    with pytest.raises(ConfigError, match="unknown benchmark format"):
        load_benchmark(tmp_path / "empty", "xml")


def test_image_paths_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "x.png").write_bytes(png(200))
    table = pa.Table.from_pylist(
        [
            {
                "index": 1,
                "question": "q",
                "A": "yes",
                "B": "no",
                "answer": "A",
                "image_path": "imgs/x.png",
            }
        ]
    )
    pq.write_table(table, tmp_path / "b.parquet")
    (item,) = load_benchmark(tmp_path / "b.parquet").items
    assert item.image == png(200) and item.answer == "a"
