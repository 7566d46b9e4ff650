"""Page sections of the evaluation side: leaderboard, per-category bars, every model's answers."""

from __future__ import annotations

from typing import Any

from report import bars
from report.evaluations import Benchmark, Evaluations, Run
from report.html import esc, img, not_yet, section, table, unreadable
from report.inputs import ReportInputs
from report.params import ReportParams
from report.thumbs import Assets

EVALUATE = "blindpairs evaluate --models ..."
INGEST = "blindpairs ingest --annotations ..."
RESPONSE_TIP = 400  # characters of a raw answer shown in its tooltip


def _pct(value: Any) -> str:
    return "–" if value is None or value == "" else f"{100 * float(value):.1f}"


def _interval(row: dict[str, Any], kind: str) -> str:
    acc = row.get(f"{kind}_accuracy")
    low, high = row.get(f"{kind}_ci95_low"), row.get(f"{kind}_ci95_high")
    return f"{_pct(acc)} <small>[{_pct(low)}–{_pct(high)}]</small>"


def _notes(row: dict[str, Any]) -> str:
    notes = []
    if row.get("random_weights"):
        notes.append('<span class="badge random">RANDOM WEIGHTS: not a real model</span>')
    if row.get("swap_options"):
        notes.append("options swapped too")
    if row.get("judge"):
        notes.append(f"judge {esc(row['judge'])}")
    if row.get("ranked") is False:
        notes.append('<span class="badge warn">every request failed: not ranked</span>')
    elif not row.get("complete"):
        notes.append('<span class="badge warn">incomplete</span>')
    if row.get("limit"):
        notes.append(f"first {esc(row['limit'])} items")
    if row.get("benchmark_random_weights"):
        notes.append('<span class="badge random">benchmark mined with random weights</span>')
    return ", ".join(notes)


def leaderboard(inp: ReportInputs) -> str:
    """The leaderboard table and pair accuracy with its 95% interval."""
    heading = "Leaderboard"
    src = inp.evaluations
    if src.error:
        return section("leaderboard", heading, unreadable(str(src.path), src.error))
    if src.value is None or not src.value.leaderboard:
        return section("leaderboard", heading, not_yet("Model scores", EVALUATE))
    rows = src.value.leaderboard
    header = (
        "#", "run", "model", "pair acc % [95% CI]", "both orders %", "question acc % [95% CI]",
        "pairs", "unparsed %", "failed", "prompt", "scoring", "benchmark", "notes",
    )  # fmt: skip
    cells = [
        [
            esc(r["rank"] if r.get("rank") is not None else "–"),
            esc(r["run"]),
            esc(r["model"]),
            _interval(r, "pair"),
            _pct(r.get("pair_accuracy_both_orders")),
            _interval(r, "question"),
            esc(r["pairs"]),
            _pct(r.get("unparsed_rate")),
            esc(r["failed"]),
            esc(r["prompt_version"]),
            esc(r.get("scoring") or ""),
            f"<code>{esc(r.get('benchmark') or '')}</code>",
            _notes(r),
        ]
        for r in rows
    ]
    caption = (
        "MMVP pair accuracy: a pair counts only when both of its questions are answered right "
        "(chance 25%); 'both orders' is the --swap-options metric (chance about 6.25%). "
        "Ranks count only among runs on the same benchmark and --limit. "
        "Intervals: 95% Wilson score intervals, pairs as the trials."
    )
    body = table(header, cells, "leaderboard") + bars.interval_chart(rows)
    return section("leaderboard", heading, body, caption)


def categories(inp: ReportInputs) -> str:
    """Pair accuracy per visual-pattern category, one bar per model."""
    heading = "Pair accuracy per category"
    ev = inp.evaluations.value
    if ev is None or not ev.leaderboard:
        return section("categories", heading, not_yet("Per-category scores", EVALUATE))
    runs = [
        (r["run"], ev.runs[r["run"]].scores.get("pair_accuracy_by_category") or {})
        for r in ev.leaderboard
    ]
    cats = sorted({c for _, by_cat in runs for c in by_cat})
    if not cats:
        return section("categories", heading, '<p class="empty">No category was scored.</p>')
    legend = "".join(
        f'<span class="key"><i style="background:{esc(bars.svg.color(i))}"></i>{esc(name)}</span>'
        for i, (name, _) in enumerate(runs)
    )
    body = bars.category_bars(cats, runs) + f'<div class="legend">{legend}</div>'
    return section("categories", heading, body)


def _answer_cell(run: Run, index: int) -> tuple[str, bool | None]:
    """What ``run`` answered on item ``index`` (the original ordering) and whether it counts."""
    rows = run.answers.get(index)
    if not rows:
        return '<span class="na">not asked</span>', None
    shown = next((r for r in rows if r.get("variant", "original") == "original"), rows[0])
    right = all(bool(r.get("correct")) for r in rows)
    parsed = shown.get("parsed")
    letter = f"({esc(parsed)})" if parsed else "unparsed"
    raw = shown.get("response")
    if raw is None:
        raw = f"error: {shown.get('error')}"
    tip = str(raw)[:RESPONSE_TIP]
    mark = '<span class="ok">✓</span>' if right else '<span class="bad">✗</span>'
    return f'<span title="{esc(tip)}">{letter} {mark}</span>', right


def _item_block(item: dict[str, Any] | None, assets: Assets, size: int) -> str:
    if item is None:
        return '<div class="item"><p class="empty">item missing from the benchmark</p></div>'
    src = assets.add(f"benchmark item {item['index']}", item.get("image"))
    answer = item.get("answer")
    right = item.get("option_a") if answer == "a" else item.get("option_b")
    alt = f"item {item['index']}"
    return (
        f'<div class="item">{img(src, alt, size)}'
        f'<p class="q"><b>{esc(item["index"])}.</b> {esc(item["question"])}</p>'
        f'<p class="opts">(a) {esc(item["option_a"])} &nbsp; (b) {esc(item["option_b"])}</p>'
        f'<p class="right">right answer: ({esc(answer)}) {esc(right)}</p></div>'
    )


def _pair_block(
    number: int, first: dict | None, second: dict | None, ev: Evaluations | None, assets: Assets,
    size: int,
) -> str:  # fmt: skip
    head_item = first or second or {}
    items = _item_block(first, assets, size) + _item_block(second, assets, size)
    answers = ""
    if ev is not None:
        rows = []
        for lb in ev.leaderboard:
            run = ev.runs[lb["run"]]
            a, ok_a = _answer_cell(run, 2 * number - 1)
            b, ok_b = _answer_cell(run, 2 * number)
            pair = (
                '<span class="ok">right</span>'
                if ok_a and ok_b
                else '<span class="bad">wrong</span>'
            )
            rows.append([esc(lb["run"]), a, b, pair])
        answers = table(("model run", "image 1", "image 2", "pair"), rows, "answers")
    return (
        f'<article class="bench-pair"><h3>Pair {number} · {esc(head_item.get("category", ""))}'
        f' <span class="id">{esc(head_item.get("pair_id", ""))}</span></h3>'
        f'<div class="items">{items}</div>{answers}</article>'
    )


def answers(inp: ReportInputs, assets: Assets, params: ReportParams) -> str:
    """For each benchmark pair: the question, options, right answers and each model's answers."""
    heading = "Benchmark pairs and every model's answers"
    src = inp.benchmark
    if src.error:
        return section("answers", heading, unreadable(str(src.path), src.error))
    if src.value is None:
        return section("answers", heading, not_yet("The benchmark", INGEST))
    bench: Benchmark = src.value
    pairs = bench.pairs()
    shown = pairs[: params.max_benchmark_pairs]
    ev = inp.evaluations.value
    blocks = "".join(_pair_block(k, a, b, ev, assets, params.thumb_size) for k, a, b in shown)
    caption = (
        f"{len(shown)} of {len(pairs)} pairs. A model's letter is its parsed answer "
        "(hover for the raw reply); ✓ when right (in every ordering asked)."
    )
    if ev is None:
        caption += " No model has been evaluated yet."
    return section("answers", heading, blocks, caption)
