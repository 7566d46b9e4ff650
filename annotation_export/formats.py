"""The three published formats, keyed by name: parquet, MMVP folder, VLMEvalKit TSV.

Text cells of the CSV and TSV that a spreadsheet would run as a formula are
written with a leading ``'`` (``blindpairs.cells``); the parquet keeps the text.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from blindpairs.cells import to_spreadsheet
from blindpairs.schemas import BENCHMARK_COLUMNS, META_KEY

Row = dict[str, Any]  # one benchmark item, keys = BENCHMARK_COLUMNS

BENCHMARK_SCHEMA = pa.schema(
    [
        pa.field("index", pa.int64(), nullable=False),
        pa.field("pair_id", pa.string(), nullable=False),
        pa.field("image", pa.binary(), nullable=False),
        pa.field("question", pa.string(), nullable=False),
        pa.field("option_a", pa.string(), nullable=False),
        pa.field("option_b", pa.string(), nullable=False),
        pa.field("answer", pa.string(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        pa.field("tile_id", pa.string(), nullable=False),
    ]
)
MMVP_HEADER = ("Index", "Question", "Options", "Correct Answer")
TSV_HEADER = ("index", "image", "question", "A", "B", "answer", "category")


def mmvp_options(row: Row) -> str:
    """MMVP's Options cell: ``"(a) Open (b) Closed"``."""
    return f"(a) {row['option_a']} (b) {row['option_b']}"


def write_parquet(folder: Path, rows: list[Row], meta: dict[str, Any]) -> list[Path]:
    """``benchmark.parquet``: image bytes inside, loads with ``datasets``."""
    columns = {name: [r[name] for r in rows] for name in BENCHMARK_COLUMNS}
    schema = BENCHMARK_SCHEMA.with_metadata(
        {META_KEY: json.dumps(meta, sort_keys=True, default=str).encode()}
    )
    path = folder / "benchmark.parquet"
    pq.write_table(pa.table(columns, schema=schema), path)
    return [path]


def write_mmvp(folder: Path, rows: list[Row], meta: dict[str, Any]) -> list[Path]:
    """MMVP's layout: ``Questions.csv`` and ``images/<Index>.png``."""
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    path = folder / "Questions.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(MMVP_HEADER)
        for r in rows:
            cells = (r["question"], mmvp_options(r))  # annotators' text: no formulas
            writer.writerow([r["index"], *map(to_spreadsheet, cells), f"({r['answer']})"])
            (images / f"{r['index']}.png").write_bytes(r["image"])
    return [path, images]


def write_tsv(folder: Path, rows: list[Row], meta: dict[str, Any]) -> list[Path]:
    """A VLMEvalKit-style TSV: base64 image, A/B options, answer letter, category."""
    path = folder / "benchmark.tsv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(TSV_HEADER)
        for r in rows:
            writer.writerow(
                [
                    r["index"],
                    base64.b64encode(r["image"]).decode("ascii"),
                    *map(to_spreadsheet, (r["question"], r["option_a"], r["option_b"])),
                    r["answer"].upper(),
                    to_spreadsheet(r["category"]),
                ]
            )
    return [path]


Writer = Callable[[Path, list[Row], dict[str, Any]], list[Path]]
FORMATS: dict[str, Writer] = {"parquet": write_parquet, "mmvp": write_mmvp, "tsv": write_tsv}
