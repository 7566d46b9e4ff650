"""The dataset card (``README.md``): counts, scenes, thresholds, encoders, licence."""

from __future__ import annotations

from collections import Counter
from typing import Any

import yaml

from annotation_export.categories import CATEGORIES
from annotation_export.text import md_escape

EXAMPLES = 5  # pairs shown in the card


def _front_matter(license_id: str, pairs: int) -> str:
    meta = {
        "license": license_id,
        "pretty_name": "blindpairs: CLIP-blind remote sensing pairs",
        "task_categories": ["visual-question-answering"],
        "size_categories": ["n<1K" if pairs * 2 < 1000 else "1K<n<10K"],
        "configs": [{"config_name": "default", "data_files": "benchmark.parquet"}],
    }
    return "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n"


MINING_HEADER = (
    "CLIP encoder",
    "CLIP weights",
    "DINOv2 encoder",
    "DINOv2 weights",
    "tau_clip (CLIP cosine above)",
    "tau_dino (DINOv2 cosine below)",
    "random weights",
    "pairs",
)
_MINING_FIELDS = ("clip_encoder", "clip_weights", "dino_encoder", "dino_weights", "tau_clip")


def _mining_row(group: dict[str, Any]) -> tuple[Any, ...]:
    """One row per distinct encoders/weights/thresholds; unknown values say so."""
    values = [group.get(k) for k in (*_MINING_FIELDS, "tau_dino")]
    shown = tuple("unknown" if v is None else v for v in values)
    return (*shown, bool(group.get("random_weights")), group.get("pairs", 0))


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return lines


def _intro(rows: list[dict[str, Any]], info: dict[str, Any]) -> list[str]:
    pairs = len(rows) // 2
    lines = [_front_matter(info["license"], pairs), "# blindpairs benchmark", ""]
    if info.get("random_weights"):
        lines += [
            "> **Warning: built from pairs mined with RANDOM-WEIGHT encoders.** "
            "It is test data, not a benchmark.",
            "",
        ]
    return lines + [
        f"{pairs} CLIP-blind pairs ({len(rows)} questions) of satellite image tiles that a CLIP "
        "encoder sees as nearly the same while DINOv2 tells them apart (RSMMVP, arXiv "
        "2503.15816; MMVP, arXiv 2401.06209). Rows `2k-1` and `2k` are pair `k`; a model "
        "scores a pair only when it answers both right.",
        "",
    ]


FILES = [
    "## Files",
    "",
    "- `benchmark.parquet`: index, pair_id, image (a `datasets` Image: PNG bytes), "
    "question, option_a, option_b, answer (a/b), category, tile_id, and MMVP's own "
    "columns Index, Question, Options, Correct Answer",
    "- `Questions.csv`, `images/<Index>.png` and `MMVP Images/<Index>.jpg` (the same PNG "
    "data under MMVP's file names): MMVP layout",
    "- `benchmark.tsv`: VLMEvalKit layout (base64 image, A, B, answer A/B)",
    "- `lmms_eval/`: an lmms-eval task (`--include_path lmms_eval --tasks blindpairs_mmvp`)",
    "- `vlmevalkit/`: how to run `benchmark.tsv` in VLMEvalKit (custom MCQ dataset)",
    "- `provenance.json`: annotators, annotation ids and errata of every pair",
    "",
]


def _patterns(rows: list[dict[str, Any]]) -> list[str]:
    counts = Counter(r["category"] for r in rows[::2])
    names = {c.id: c.name for c in CATEGORIES}
    order = [c.id for c in CATEGORIES] + sorted(set(counts) - set(names))
    return ["## Pairs per visual pattern", ""] + _table(
        ("category", "pattern", "pairs"),
        [(c, names.get(c, ""), counts[c]) for c in order if counts.get(c)],
    )


def _mining(info: dict[str, Any]) -> list[str]:
    lines = ["", "## Mining", "", "Encoders and thresholds of the published pairs:", ""]
    lines += _table(MINING_HEADER, [_mining_row(m) for m in info.get("mining", [])])
    lines += [""]
    return lines + _table(
        ("field", "value"),
        [
            ("random weights (any pair)", bool(info.get("random_weights"))),
            ("annotation policy", info.get("policy", "")),
            ("errata applied", info.get("errata_applied", 0)),
        ],
    )


def _examples(rows: list[dict[str, Any]]) -> list[str]:
    return ["", "## Examples", ""] + _table(
        ("index", "category", "question", "options", "answers"),
        [
            (a["index"], a["category"], a["question"], f"(a) {a['option_a']} (b) {a['option_b']}",
             f"({a['answer']}) / ({b['answer']})")
            for a, b in zip(rows[:EXAMPLES * 2:2], rows[1:EXAMPLES * 2:2], strict=True)
        ],
    )  # fmt: skip


def _licence_and_load(info: dict[str, Any]) -> list[str]:
    return [
        "",
        "## Licence",
        "",
        f"{md_escape(info['license'])}. The images are tiles of the source scenes above; "
        "their own licences apply.",
        "",
        "## Load",
        "",
        "```python",
        "from datasets import load_dataset",
        'ds = load_dataset("parquet", data_files="benchmark.parquet")["train"]',
        'ds[0]["image"]  # a PIL image',
        "```",
        "",
    ]


def dataset_card(rows: list[dict[str, Any]], info: dict[str, Any]) -> str:
    """Markdown card; every value that came from data is escaped."""
    lines = _intro(rows, info) + FILES + _patterns(rows) + _mining(info) + _examples(rows)
    lines += ["", "## Source scenes", ""]
    lines += _table(("scene", "uri", "tiles"), info.get("scenes", []))
    lines += _licence_and_load(info)
    return "\n".join(lines)
