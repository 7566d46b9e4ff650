"""Run ``blindpairs ARGS`` in this process and SIGKILL it right after a chosen rename.

``python -m tests.core.killing_cli PATTERN ARGS...``: the process kills itself
(SIGKILL: no clean-up, no ``finally``) just after the first ``os.replace(src,
dst)`` for which ``PATTERN`` matches ``"<src name> -> <dst name>"``; used to
test recovery from a kill at the worst moment, in a real process.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

from blindpairs import cli

_real = os.replace


def _replace_then_die(pattern: re.Pattern[str]):
    def replace(src, dst, *args, **kwargs):
        _real(src, dst, *args, **kwargs)
        if pattern.search(f"{Path(src).name} -> {Path(dst).name}"):
            os.kill(os.getpid(), signal.SIGKILL)

    return replace


if __name__ == "__main__":
    os.replace = _replace_then_die(re.compile(sys.argv[1]))
    sys.exit(cli.main(sys.argv[2:]))
