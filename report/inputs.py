"""Everything the report reads from a workspace, gathered once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blindpairs.workspace import Workspace
from report.evaluations import (
    Benchmark,
    Evaluations,
    read_benchmark,
    read_evaluations,
)
from report.gather import (
    Pairs,
    Similarities,
    Tiles,
    read_pairs,
    read_similarities,
    read_tiles,
    read_yield,
)
from report.params import ReportParams
from report.source import Source


@dataclass(frozen=True)
class ReportInputs:
    """The workspace's outputs as the report sees them (each may be missing or unreadable)."""

    workspace: Workspace
    tiles: Tiles
    pairs: Source[Pairs]
    similarities: Source[Similarities]
    pair_yield: Source[dict[str, Any]]
    benchmark: Source[Benchmark]
    evaluations: Source[Evaluations]

    def random_weights(self) -> list[str]:
        """Which outputs came from random-weight encoders or models (empty: none)."""
        out = []
        if self.pairs.value is not None and self.pairs.value.random_weights:
            out.append("the mined pairs (random-weight encoders)")
        if self.benchmark.value is not None and self.benchmark.value.meta.get("random_weights"):
            out.append("the benchmark (built from pairs mined with random-weight encoders)")
        if self.evaluations.value is not None:
            runs = [r["run"] for r in self.evaluations.value.leaderboard if r.get("random_weights")]
            if runs:
                out.append("the model run(s) " + ", ".join(runs) + " (random weights)")
        return out

    def unreadable(self) -> list[tuple[str, str]]:
        """``(file, reason)`` of every input that exists but could not be read."""
        out = list(self.tiles.unreadable.items())
        sources = (self.pairs, self.similarities, self.pair_yield, self.benchmark, self.evaluations)
        out += [(str(s.path), s.error) for s in sources if s.error is not None]
        if self.evaluations.value is not None:
            for run in self.evaluations.value.runs.values():
                if run.error:
                    out.append((run.error_file, run.error))
        return out


def gather(ws: Workspace, params: ReportParams) -> ReportInputs:
    """Read every stage's output the report shows."""
    pairs = read_pairs(ws)
    return ReportInputs(
        workspace=ws,
        tiles=read_tiles(ws),
        pairs=pairs,
        similarities=read_similarities(ws, pairs.value, params.max_points),
        pair_yield=read_yield(ws),
        benchmark=read_benchmark(ws),
        evaluations=read_evaluations(ws),
    )
