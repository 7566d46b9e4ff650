"""Progress bars (tqdm on stderr), silenced by ``--quiet`` or ``BLINDPAIRS_QUIET=1``."""

from __future__ import annotations

import os
from typing import Any


def progress(total: int | None, desc: str, unit: str = "it", quiet: bool = False) -> Any:
    """A tqdm bar showing the rate in ``unit``/s."""
    from tqdm.auto import tqdm

    disable = quiet or os.environ.get("BLINDPAIRS_QUIET") == "1"
    return tqdm(total=total, desc=desc, unit=unit, disable=disable, dynamic_ncols=True)
