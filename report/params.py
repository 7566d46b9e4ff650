"""Options of ``blindpairs report`` (CLI flags and the ``report:`` config section)."""

from __future__ import annotations

from dataclasses import dataclass

from blindpairs.config import option
from blindpairs.errors import ConfigError


@dataclass(frozen=True)
class ReportParams:
    """Options of ``blindpairs report`` (the ``report`` section of the config file)."""

    max_pairs: int = option(60, "mined pairs shown in the gallery, best first", metavar="N")
    thumb_size: int = option(
        192, "longest side of the tile thumbnails, in pixels", metavar="PIXELS"
    )
    max_points: int = option(
        5000,
        "most candidate pairs drawn in the scatter plot (an even sample beyond that)",
        metavar="N",
    )
    max_map_tiles: int = option(
        20000,
        "most tile footprints drawn on the map (an even sample beyond that)",
        metavar="N",
    )
    max_benchmark_pairs: int = option(
        500, "benchmark pairs listed with every model's answers", metavar="N"
    )
    force: bool = option(False, "write the report even when nothing changed")

    def __post_init__(self) -> None:
        checks = {
            "max_pairs must be >= 0": self.max_pairs >= 0,
            "thumb_size must be between 16 and 2048": 16 <= self.thumb_size <= 2048,
            "max_points must be >= 1": self.max_points >= 1,
            "max_map_tiles must be >= 1": self.max_map_tiles >= 1,
            "max_benchmark_pairs must be >= 0": self.max_benchmark_pairs >= 0,
        }
        failed = [message for message, ok in checks.items() if not ok]
        if failed:
            raise ConfigError("report options: " + "; ".join(failed))
