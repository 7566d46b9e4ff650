"""The workspace: one folder that holds every stage's output (see DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from blindpairs import names

# Where ``embed --replace`` sets the parts it replaces aside (inside an encoder folder).
REPLACED = "_replaced"
# The embed stage's record of tiles that failed, in each encoder folder
# (``schemas.EMBED_FAILURES_SCHEMA``); public, read by ``blindpairs status``.
EMBED_FAILURES_FILE = "_failures.parquet"
# The published benchmark's main file and its provenance, inside any benchmark folder
# (the workspace's, or one given to ``evaluate --benchmark``).
BENCHMARK_FILE = "benchmark.parquet"
PROVENANCE_FILE = "provenance.json"
SCORES_FILE = "scores.json"


def safe_name(text: str) -> str:
    """A file-name-safe version of ``text`` (encoder ids, model ids, scene names)."""
    return names.slug(text)


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace. Creating the object touches nothing on disk."""

    root: Path

    def __init__(self, root: str | Path) -> None:
        object.__setattr__(self, "root", Path(root))

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    # tile stage
    @property
    def tiles(self) -> Path:
        return self.root / "tiles"

    def tile_part(self, scene_id: str) -> Path:
        # ids are safe names already; one read from a (crafted) part is made safe here
        name = scene_id if names.is_component(scene_id) else safe_name(scene_id)
        return self.tiles / f"part-{name}.parquet"

    def tile_parts(self) -> list[Path]:
        return sorted(self.tiles.glob("part-*.parquet"))

    @property
    def tile_failures(self) -> Path:
        return self.tiles / "_failures.parquet"

    # embed stage
    @property
    def embeddings(self) -> Path:
        return self.root / "embeddings"

    def encoder_dir(self, encoder_id: str) -> Path:
        return self.embeddings / safe_name(encoder_id)

    def encoder_dirs(self) -> list[Path]:
        """Every encoder folder of ``embeddings/`` (whatever it holds)."""
        if not self.embeddings.is_dir():
            return []
        return sorted(d for d in self.embeddings.iterdir() if d.is_dir())

    @staticmethod
    def embed_failures(encoder_dir: Path) -> Path:
        """The tiles that failed to embed into ``encoder_dir``, with their reason and the
        embedding identity they failed for (``schemas.EMBED_FAILURES_SCHEMA``)."""
        return encoder_dir / EMBED_FAILURES_FILE

    # mine stage
    @property
    def pairs_dir(self) -> Path:
        return self.root / "pairs"

    @property
    def pairs(self) -> Path:
        return self.pairs_dir / "pairs.parquet"

    @property
    def pair_yield(self) -> Path:
        return self.pairs_dir / "yield.json"

    @property
    def mine_state(self) -> Path:
        """The mine stage's freshness stamp (``blindpairs.freshness``), written by every
        complete run."""
        return self.pairs_dir / "_state.json"

    @property
    def candidates(self) -> Path:
        """Every candidate pair of the last search (``schemas.CANDIDATES_SCHEMA``); the mine
        stage's cache, and what the report's similarity scatter draws."""
        return self.pairs_dir / "candidates.parquet"

    # annotation: export and ingest
    @property
    def label_studio(self) -> Path:
        return self.root / "annotation" / "label_studio"

    @property
    def tasks(self) -> Path:
        """The exported Label Studio tasks: the pairs pinned for annotation
        (read with ``schemas.read_exported_pairs``)."""
        return self.label_studio / "tasks.json"

    @property
    def benchmark(self) -> Path:
        return self.root / "benchmark"

    @property
    def benchmark_file(self) -> Path:
        """The published benchmark (``schemas.BENCHMARK_SCHEMA``)."""
        return self.benchmark / BENCHMARK_FILE

    @property
    def provenance(self) -> Path:
        return self.benchmark / PROVENANCE_FILE

    # evaluate
    @property
    def evaluation(self) -> Path:
        return self.root / "evaluation"

    def evaluation_run(self, run: str) -> Path:
        """The folder of one evaluation run; ConfigError for a name that is not safe."""
        return names.child(self.evaluation, run, "run name")

    def scores(self, run: str) -> Path:
        return self.evaluation_run(run) / SCORES_FILE

    def responses(self, run: str) -> Path:
        return self.evaluation_run(run) / "responses.jsonl"

    def scored_runs(self) -> list[str]:
        """The name of every run with a ``scores.json`` so far (safe names only)."""
        found = (p.parent.name for p in self.evaluation.glob("*/scores.json"))
        return sorted(name for name in found if names.is_component(name))

    @property
    def leaderboard(self) -> Path:
        """``schemas.LEADERBOARD_TYPES`` columns, one row per run."""
        return self.evaluation / "leaderboard.csv"

    @property
    def leaderboard_md(self) -> Path:
        return self.evaluation / "leaderboard.md"

    # report
    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def report_page(self) -> Path:
        return self.reports / "index.html"
