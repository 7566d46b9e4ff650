"""Benchmark loaders: a registry by format, auto-detected, all giving the same items.

Formats:

- ``blindpairs``: our ``<ws>/benchmark/`` folder (``benchmark.parquet``).
- ``mmvp``: a folder with MMVP's ``Questions.csv`` (Index, Question, Options,
  Correct Answer) and images named ``<Index>.<ext>`` in ``images/``,
  ``MMVP Images/`` or the folder itself.
- ``tsv``: a VLMEvalKit-style TSV (index, image as base64, question, A, B,
  answer A/B, category).
- ``parquet``: a parquet file, or a folder of them (a Hugging Face dataset
  download such as RSMMVP), whose image column holds bytes, a ``{bytes, path}``
  struct or a path.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blindpairs.cells import from_spreadsheet
from blindpairs.errors import ConfigError, InputError
from blindpairs.workspace import BENCHMARK_FILE
from evaluation.items import BenchItem, LoadedBenchmark
from evaluation.pairing import detect_pairing
from evaluation.rows import ImageResolver, path_resolver, to_item

Rows = Iterable[tuple[str, Mapping[str, Any]]]  # (row reference for messages, row)

MMVP_IMAGE_DIRS = ("images", "MMVP Images", "MMVP Imgaes", ".")
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class Loader:
    """How to recognise one format and read its rows."""

    detect: Callable[[Path], bool]
    rows: Callable[[Path], tuple[Rows, ImageResolver]]


def _parquet_rows(files: list[Path]) -> Rows:
    import pyarrow.parquet as pq

    for f in files:
        try:
            table = pq.read_table(f)
        except Exception as exc:  # pyarrow raises several types for bad files
            raise InputError(str(f), f"not a readable parquet file: {exc}") from None
        for i, row in enumerate(table.to_pylist()):
            yield f"{f.name} row {i}", row


def _blindpairs(path: Path) -> tuple[Rows, ImageResolver]:
    return _parquet_rows([path / BENCHMARK_FILE]), path_resolver(path)


def _parquet_files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(path.rglob("*.parquet"))


def _parquet(path: Path) -> tuple[Rows, ImageResolver]:
    base = path.parent if path.is_file() else path
    return _parquet_rows(_parquet_files(path)), path_resolver(base)


def _csv_rows(path: Path, delimiter: str) -> Rows:
    csv.field_size_limit(2**31 - 1)  # base64 images in TSV cells are large
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for i, row in enumerate(csv.DictReader(fh, delimiter=delimiter)):
                # cells written with OWASP's formula guard (a leading ') read back as written
                yield f"{path.name} line {i + 2}", {k: from_spreadsheet(v) for k, v in row.items()}
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(str(path), f"cannot read: {exc}") from None


def _tsv(path: Path) -> tuple[Rows, ImageResolver]:
    return _csv_rows(path, "\t"), path_resolver(path.parent)


def _mmvp_resolver(folder: Path) -> ImageResolver:
    base = path_resolver(folder)

    def resolve(ref: str) -> bytes:
        if not ref.isdigit():
            return base(ref)
        for sub in MMVP_IMAGE_DIRS:
            for ext in IMAGE_EXTS:
                candidate = folder / sub / f"{ref}{ext}"
                if candidate.is_file():
                    return candidate.read_bytes()
        raise ValueError(f"no image {ref}.png/.jpg in {', '.join(MMVP_IMAGE_DIRS)} of {folder}")

    return resolve


def _mmvp(path: Path) -> tuple[Rows, ImageResolver]:
    def rows() -> Rows:
        for ref, row in _csv_rows(path / "Questions.csv", ","):
            row = dict(row)
            if not any(row.get(k) for k in ("image", "image_path")):
                row["image_path"] = str(row.get("Index") or row.get("index") or "").strip()
            yield ref, row

    return rows(), _mmvp_resolver(path)


LOADERS: dict[str, Loader] = {
    "blindpairs": Loader(lambda p: (p / BENCHMARK_FILE).is_file(), _blindpairs),
    "mmvp": Loader(lambda p: (p / "Questions.csv").is_file(), _mmvp),
    "tsv": Loader(lambda p: p.is_file() and p.suffix.lower() == ".tsv", _tsv),
    "parquet": Loader(lambda p: bool(_parquet_files(p)), _parquet),
}
FORMATS = ("auto", *LOADERS)


def detect_format(path: Path) -> str:
    """The first format in :data:`LOADERS` order that recognises ``path``."""
    if path.is_dir() and not (path / BENCHMARK_FILE).exists():
        tsv = sorted(path.glob("*.tsv"))
        if len(tsv) == 1 and not (path / "Questions.csv").exists():
            return "tsv"
    for name, loader in LOADERS.items():
        if loader.detect(path):
            return name
    raise InputError(
        str(path),
        "no benchmark found (expected benchmark.parquet, Questions.csv, a .tsv or .parquet files)",
    )


def load_benchmark(path: str | Path, fmt: str = "auto") -> LoadedBenchmark:
    """Read the benchmark at ``path``; rows that cannot be used are listed, not fatal."""
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "benchmark not found; run ingest or pass --benchmark PATH")
    if fmt not in FORMATS:
        raise ConfigError(f"unknown benchmark format {fmt!r} (known: {', '.join(FORMATS)})")
    name = detect_format(path) if fmt == "auto" else fmt
    if name == "tsv" and path.is_dir():
        path = sorted(path.glob("*.tsv"))[0]
    rows, resolve = LOADERS[name].rows(path)
    items: dict[int, BenchItem] = {}
    problems: list[tuple[str, str]] = []
    for position, (ref, row) in enumerate(rows, start=1):
        try:
            item = to_item(row, resolve, position)
        except ValueError as exc:
            problems.append((ref, str(exc)))
            continue
        if item.index in items:
            problems.append((ref, f"duplicate index {item.index}; the first one is kept"))
            continue
        items[item.index] = item
    if not items:
        detail = f"; first problem: {problems[0][0]}: {problems[0][1]}" if problems else ""
        raise InputError(str(path), f"no usable benchmark items ({name} format){detail}")
    ordered = tuple(items[i] for i in sorted(items))
    pairing = detect_pairing(ordered, str(path))
    return LoadedBenchmark(
        str(path), name, ordered, tuple(problems), pairing.base, _random_weights(path, name)
    )


def _random_weights(path: Path, fmt: str) -> bool:
    """Whether our benchmark.parquet says its pairs were mined with random-weight encoders."""
    if fmt != "blindpairs":
        return False
    from blindpairs.schemas import read_metadata

    try:
        return bool(read_metadata(path / BENCHMARK_FILE).get("random_weights"))
    except (OSError, ValueError):
        return False
