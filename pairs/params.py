"""Parameters of the mine stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blindpairs.config import float_tuple, option, option_fields, optional_float, to_dict
from blindpairs.encoder_choice import EncoderChoice
from blindpairs.errors import ConfigError

RANK_CHOICES = ("gap", "dino_sim")
# options that change how a run works, not what it writes: out of mine's fingerprint
RUN_ONLY = ("force", "batch")
INDEX_CHOICES = ("auto", "exact", "ivf")


def optional_int(value: Any) -> int | None:
    """Parse an int, or ``none``/empty for no value."""
    if value is None or (isinstance(value, str) and value.strip().lower() in {"", "none", "null"}):
        return None
    return int(value)


@dataclass(frozen=True)
class MineParams(EncoderChoice):
    """Options of ``blindpairs mine`` (the ``mine`` section of the config file; the encoder
    choice is taken whole from mine's flags, else this section, else the ``embed``
    section)."""

    tau_clip: float = option(0.95, "keep pairs with CLIP cosine >= this", metavar="T")
    tau_dino: float = option(0.6, "keep pairs with DINOv2 cosine < this", metavar="T")
    rank_by: str = option(
        "gap",
        "rank by gap (clip_sim - dino_sim, largest first) or dino_sim (lowest first)",
        choices=RANK_CHOICES,
    )
    cap: int = option(1, "most pairs one tile may join (greedy by rank)", metavar="N")
    budget: int | None = option(
        None,
        "most pairs in total; pairs exported for annotation always stay and count, the "
        "rest is re-selected by rank every run",
        parse=optional_int,
        metavar="N",
    )
    min_distance_tiles: float = option(
        1.0,
        "pairs (of any scenes) closer than this many tile widths are excluded (overlap or "
        "touch always is)",
        metavar="K",
    )
    min_distance_m: float | None = option(
        None,
        "minimum distance between a pair's footprints in metres; overrides --min-distance-tiles",
        parse=optional_float,
        metavar="M",
    )
    allow_same_place: bool = option(
        False,
        "allow pairs whose footprints overlap but come from different scenes (the same place "
        "at another date); near or touching tiles stay excluded",
    )
    index: str = option(
        "auto",
        "search: exact (FAISS flat), ivf (approximate), or auto by size",
        choices=INDEX_CHOICES,
    )
    exact_max: int = option(
        20_000, "auto uses the exact search up to this many tiles (x25 with a GPU)", metavar="N"
    )
    nlist: int | None = option(
        None,
        "IVF lists (default: a power of two near 4*sqrt(N))",
        parse=optional_int,
        metavar="N",
    )
    nprobe: int | None = option(
        None,
        "IVF lists probed per tile (default: 8)",
        parse=optional_int,
        metavar="N",
    )
    recall_sample: int = option(
        500,
        "tiles whose pairs are re-found exactly to measure the IVF recall (0: skip)",
        metavar="N",
    )
    yield_clip: tuple[float, ...] = option(
        (0.93, 0.94, 0.95, 0.96, 0.97, 0.98),
        "tau_clip values of the yield grid",
        parse=float_tuple,
        metavar="T,T,..",
    )
    yield_dino: tuple[float, ...] = option(
        (0.4, 0.5, 0.6, 0.7),
        "tau_dino values of the yield grid",
        parse=float_tuple,
        metavar="T,T,..",
    )
    force: bool = option(
        False,
        "mine again even when up to date, searching all tiles instead of reusing the "
        "candidate cache (a flag is for this run only: config.yaml keeps the config file's "
        "value)",
        deprecated=("fresh",),
        once=True,
    )
    batch: int = option(2048, "query tiles per search batch (bounds memory)", metavar="N")

    def __post_init__(self) -> None:
        checks = {
            "tau_clip must be in (-1, 1], e.g. 0.95": -1.0 < self.tau_clip <= 1.0,
            "tau_dino must be in (-1, 1], e.g. 0.6": -1.0 < self.tau_dino <= 1.0,
            "cap must be at least 1": self.cap >= 1,
            "budget must be at least 1 (or none)": self.budget is None or self.budget >= 1,
            "min_distance_tiles must be >= 0": self.min_distance_tiles >= 0,
            "min_distance_m must be >= 0": self.min_distance_m is None or self.min_distance_m >= 0,
            "exact_max must be >= 0": self.exact_max >= 0,
            "nlist must be >= 1": self.nlist is None or self.nlist >= 1,
            "nprobe must be >= 1": self.nprobe is None or self.nprobe >= 1,
            "recall_sample must be >= 0": self.recall_sample >= 0,
            "batch must be >= 1": self.batch >= 1,
            "yield_clip needs values in (-1, 1]": all(-1 < t <= 1 for t in self.yield_clip),
            "yield_dino needs values in (-1, 1]": all(-1 < t <= 1 for t in self.yield_dino),
        }
        try:
            self.encoder_ids(need_both=True)
        except ConfigError as exc:
            checks[str(exc)] = False
        bad = [msg for msg, ok in checks.items() if not ok]
        if bad:
            raise ConfigError("mine options: " + "; ".join(bad))

    @property
    def clip_id(self) -> str:
        """The CLIP encoder id: ``--clip``, else the preset's."""
        return self.chosen()["clip"]

    @property
    def dino_id(self) -> str:
        """The DINOv2 encoder id: ``--dino``, else the preset's."""
        return self.chosen()["dino"]

    def settings(self) -> dict[str, Any]:
        """The options that decide what mine writes (its fingerprint and the ``params`` of
        pairs.parquet): the encoder choice as the resolved ``clip``/``dino`` ids, so equal
        choices spelled differently match; no run option (:data:`RUN_ONLY`)."""
        choice = {f.name for f in option_fields(EncoderChoice)}
        out = {k: v for k, v in to_dict(self).items() if k not in RUN_ONLY and k not in choice}
        return {**out, "clip": self.clip_id, "dino": self.dino_id}

    @property
    def search_clip(self) -> float:
        """The lowest CLIP threshold any output needs (the pair's or the yield grid's)."""
        return min((self.tau_clip, *self.yield_clip))

    @property
    def search_dino(self) -> float:
        """The highest DINOv2 threshold any output needs."""
        return max((self.tau_dino, *self.yield_dino))
