"""Files that let lmms-eval and VLMEvalKit load the published benchmark as it is.

- ``lmms_eval/blindpairs_mmvp.yaml`` + ``blindpairs_mmvp_utils.py``: an lmms-eval
  task (``--include_path <benchmark>/lmms_eval --tasks blindpairs_mmvp``) over
  ``benchmark.parquet`` that asks and scores like lmms-eval's own ``mmvp`` task
  (``lmms_eval/tasks/mmvp``: same prompt, ``max_new_tokens`` 16, same letter
  extraction, accuracy and pair accuracy), pairing items by ``pair_id``.
- ``vlmevalkit/README.md`` + ``config.json``: how to run ``benchmark.tsv`` as a
  VLMEvalKit custom multiple-choice dataset.

The YAML names the parquet file by absolute path (lmms-eval resolves
``data_files`` against the working directory), so it is written for the
benchmark's final place; re-run ingest after moving the workspace.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from blindpairs.workspace import BENCHMARK_FILE

LMMS_DIR = "lmms_eval"
LMMS_TASK = "blindpairs_mmvp"
LMMS_UTILS = "blindpairs_mmvp_utils"
VLMEVAL_DIR = "vlmevalkit"
VLMEVAL_NAME = "BlindPairs"
# The post prompt and token cap of lmms-eval's mmvp task (_default_template_yaml).
LMMS_POST_PROMPT = "\nAnswer with the option's letter from the given choices directly."
LMMS_MAX_NEW_TOKENS = 16

UTILS_SOURCE = r'''"""lmms-eval functions of the blindpairs benchmark task (written by ingest).

They follow lmms-eval's own MMVP task (lmms_eval/tasks/mmvp/utils.py): the prompt
"<Question>\nA. <a>\nB. <b>" plus the post prompt, the same letter extraction,
and accuracy over questions and over pairs (both items right). Pairs are the two
rows that share ``pair_id``. Columns read: image, Question, option_a, option_b,
answer, Index, pair_id.
"""

import re

_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^\s*\(?([AB])\)?\.?\s*$",
        r"^\s*\(?([AB])\)?[\.\s]",
        r"answer\s+is\s+\(?([AB])\)?",
        r"option\s+\(?([AB])\)?",
        r"\(?([AB])\)?(?:\s|$)",
    )
]


def extract_letter(text):
    text = str(text or "").strip()
    for pattern in _PATTERNS:
        m = pattern.search(text)
        if m:
            return m.group(1).upper()
    return text[0].upper() if text and text[0].upper() in "AB" else ""


def doc_to_visual(doc):
    return [doc["image"].convert("RGB")]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    kwargs = lmms_eval_specific_kwargs or {}
    options = f"A. {doc['option_a']}\nB. {doc['option_b']}"
    pre, post = kwargs.get("pre_prompt", ""), kwargs.get("post_prompt", "")
    return f"{pre}{doc['Question']}\n{options}{post}"


def doc_to_target(doc):
    return doc["answer"].upper()


def process_results(doc, results):
    pred = extract_letter(results[0])
    gt = doc_to_target(doc)
    row = {"index": doc["Index"], "pair_id": doc["pair_id"], "pred": pred, "gt": gt,
           "is_correct": pred == gt}
    return {"mmvp_accuracy": row, "mmvp_pair_accuracy": row}


def aggregate_accuracy(results):
    return sum(r["is_correct"] for r in results) / len(results) if results else 0.0


def aggregate_pair_accuracy(results):
    pairs = {}
    for r in results:
        pairs.setdefault(r["pair_id"], []).append(r["is_correct"])
    full = [v for v in pairs.values() if len(v) == 2]
    return sum(all(v) for v in full) / len(full) if full else 0.0
'''


def lmms_eval_task(parquet: Path) -> dict:
    """The task config (``!function`` entries as ``"!function module.name"`` strings)."""
    fn = f"!function {LMMS_UTILS}."
    return {
        "task": LMMS_TASK,
        "dataset_path": "parquet",
        "dataset_kwargs": {"data_files": {"test": str(parquet)}},
        "test_split": "test",
        "output_type": "generate_until",
        "doc_to_visual": fn + "doc_to_visual",
        "doc_to_text": fn + "doc_to_text",
        "doc_to_target": fn + "doc_to_target",
        "process_results": fn + "process_results",
        "metric_list": [
            {"metric": "mmvp_accuracy", "aggregation": fn + "aggregate_accuracy",
             "higher_is_better": True},
            {"metric": "mmvp_pair_accuracy", "aggregation": fn + "aggregate_pair_accuracy",
             "higher_is_better": True},
        ],
        "lmms_eval_specific_kwargs": {
            "default": {"pre_prompt": "", "post_prompt": LMMS_POST_PROMPT}
        },
        "generation_kwargs": {
            "max_new_tokens": LMMS_MAX_NEW_TOKENS, "temperature": 0, "do_sample": False
        },
        "metadata": {"version": 0.0},
    }  # fmt: skip


def write_lmms_eval(folder: Path, target: Path) -> list[Path]:
    """``lmms_eval/``: the task YAML and its functions, for the benchmark published at ``target``.

    lmms-eval tags functions ``!function module.name``; safe_dump quotes them, so the
    quotes are taken off again.
    """
    out = folder / LMMS_DIR
    out.mkdir(parents=True, exist_ok=True)
    task = lmms_eval_task(target / BENCHMARK_FILE)
    text = yaml.safe_dump(task, sort_keys=False, width=10_000, allow_unicode=True)
    tagged = "\n".join(
        line.replace("'!function ", "!function ").rstrip("'") if "'!function " in line else line
        for line in text.splitlines()
    )
    header = (
        f"# lmms-eval task over this benchmark (written by blindpairs ingest).\n"
        f"# python -m lmms_eval --include_path {out.name} --tasks {LMMS_TASK} --model ...\n"
    )
    (out / f"{LMMS_TASK}.yaml").write_text(header + tagged + "\n", encoding="utf-8")
    (out / f"{LMMS_UTILS}.py").write_text(UTILS_SOURCE, encoding="utf-8")
    return [out]


def vlmevalkit_config(name: str = VLMEVAL_NAME) -> dict:
    """A VLMEvalKit ``run.py --config`` file: the TSV as a custom MCQ dataset."""
    return {
        "model": {"GPT4o": {"class": "GPT4V", "model": "gpt-4o", "temperature": 0}},
        "data": {name: {"class": "CustomMCQDataset", "dataset": name}},
    }


VLMEVAL_NOTE = """# VLMEvalKit

`../benchmark.tsv` has VLMEvalKit's multiple-choice columns (`index`, base64 `image`,
`question`, `A`, `B`, `answer` as `A`/`B`, `category`), so VLMEvalKit runs it as a
custom MCQ dataset, with no code:

```bash
cp benchmark.tsv "$LMUData/{name}.tsv"          # LMUData: VLMEvalKit's data folder (~/LMUData)
python run.py --data {name} --model GPT4o       # or: python run.py --config vlmevalkit/config.json
```

VLMEvalKit then asks `Question: ...\\nOptions:\\nA. ...\\nB. ...\\nPlease select the correct
answer from the options above. \\n` (blindpairs' `--prompt vlmevalkit-v2`) and reports accuracy
per question. For MMVP's pair accuracy, score its predictions here with the same rules:

```bash
blindpairs evaluate -w WS --models predictions:preds.tsv --scoring vlmevalkit --prompt vlmevalkit-v2
```

where `preds.tsv` holds the `index` and `prediction` columns of VLMEvalKit's result file.
"""


def write_vlmevalkit(folder: Path, target: Path) -> list[Path]:
    """``vlmevalkit/``: a note and a ``run.py --config`` file for ``benchmark.tsv``."""
    out = folder / VLMEVAL_DIR
    out.mkdir(parents=True, exist_ok=True)
    (out / "README.md").write_text(VLMEVAL_NOTE.format(name=VLMEVAL_NAME), encoding="utf-8")
    (out / "config.json").write_text(
        json.dumps(vlmevalkit_config(), indent=2) + "\n", encoding="utf-8"
    )
    return [out]
