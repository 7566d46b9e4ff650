"""Run ``blindpairs ARGS`` in this process, pausing before the first rename of a part.

Used by the race tests as the first of two real processes: it prints ``paused
<temporary>`` once the part is written to its temporary, waits for a line on
stdin, then goes on.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from blindpairs import atomic, cli

_real = atomic.atomic_path
_paused: list[Path] = []


@contextlib.contextmanager
def _pausing(target: str | Path) -> Iterator[Path]:
    with _real(target) as tmp:
        yield tmp
        if Path(target).name.startswith("part-") and not _paused:
            _paused.append(tmp)
            print(f"paused {tmp}", flush=True)
            sys.stdin.readline()


if __name__ == "__main__":
    atomic.atomic_path = _pausing
    sys.exit(cli.main(sys.argv[1:]))
