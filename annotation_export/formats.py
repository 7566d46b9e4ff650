"""The three published formats, keyed by name: parquet, MMVP folder, VLMEvalKit TSV.

Text cells of the CSV and TSV that a spreadsheet would run as a formula are
written with a leading ``'`` (``blindpairs.cells``); the parquet keeps the text.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from blindpairs.cells import to_spreadsheet
from blindpairs.schemas import (
    BENCHMARK_COLUMNS,
    BENCHMARK_SCHEMA,
    HF_KEY,
    META_KEY,
    MMVP_COLUMNS,
    hf_features,
)
from blindpairs.workspace import BENCHMARK_FILE

Row = dict[str, Any]  # one benchmark item, keys = BENCHMARK_COLUMNS

MMVP_HEADER = MMVP_COLUMNS
MMVP_IMAGES = "MMVP Images"  # MMVP's own folder: "MMVP Images/<Index>.jpg"
TSV_HEADER = ("index", "image", "question", "A", "B", "answer", "category")


def mmvp_options(row: Row) -> str:
    """MMVP's Options cell: ``"(a) Open (b) Closed"``."""
    return f"(a) {row['option_a']} (b) {row['option_b']}"


def parquet_columns(rows: list[Row]) -> dict[str, list[Any]]:
    """Our columns, the image as the ``datasets`` Image struct, and MMVP's columns."""
    columns: dict[str, list[Any]] = {name: [r[name] for r in rows] for name in BENCHMARK_COLUMNS}
    columns["image"] = [{"bytes": r["image"], "path": None} for r in rows]
    columns["Index"] = [r["index"] for r in rows]
    columns["Question"] = [r["question"] for r in rows]
    columns["Options"] = [mmvp_options(r) for r in rows]
    columns["Correct Answer"] = [f"({r['answer']})" for r in rows]
    return columns


def write_parquet(folder: Path, rows: list[Row], meta: dict[str, Any]) -> list[Path]:
    """``benchmark.parquet``: ``datasets`` loads ``image`` as PIL images (Image feature)."""
    schema = BENCHMARK_SCHEMA.with_metadata(
        {
            META_KEY: json.dumps(meta, sort_keys=True, default=str).encode(),
            HF_KEY: json.dumps(hf_features(BENCHMARK_SCHEMA)).encode(),
        }
    )
    path = folder / BENCHMARK_FILE
    pq.write_table(pa.table(parquet_columns(rows), schema=schema), path)
    return [path]


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def write_mmvp(folder: Path, rows: list[Row], meta: dict[str, Any]) -> list[Path]:
    """MMVP's layout: ``Questions.csv``, ``images/<Index>.png`` and ``MMVP Images/<Index>.jpg``.

    MMVP's scripts open ``MMVP Images/<Index>.jpg``; those files hold the same PNG
    data (PIL reads images by content), linked rather than re-encoded, so every
    layout shows a model the same pixels.
    """
    images, mmvp_images = folder / "images", folder / MMVP_IMAGES
    images.mkdir(parents=True, exist_ok=True)
    mmvp_images.mkdir(parents=True, exist_ok=True)
    path = folder / "Questions.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(MMVP_HEADER)
        for r in rows:
            cells = (r["question"], mmvp_options(r))  # annotators' text: no formulas
            writer.writerow([r["index"], *map(to_spreadsheet, cells), f"({r['answer']})"])
            png = images / f"{r['index']}.png"
            png.write_bytes(r["image"])
            _link_or_copy(png, mmvp_images / f"{r['index']}.jpg")
    return [path, images, mmvp_images]


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
