"""A sub-command whose stage has not landed yet: it says so and exits non-zero."""

from __future__ import annotations

import argparse
import sys

from blindpairs.commands import Command


def not_implemented(name: str, help: str, issue: str) -> Command:
    def run(args: argparse.Namespace) -> int:
        print(f"blindpairs {name}: not implemented yet (tracked in {issue})", file=sys.stderr)
        return 3

    return Command(
        name=name, help=f"{help} (not implemented yet)", add_arguments=lambda p: None, run=run
    )
