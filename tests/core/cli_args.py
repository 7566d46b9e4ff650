"""The CLI parser of the core tests: arguments parsed as ``blindpairs`` parses them."""

from __future__ import annotations

import argparse

from blindpairs import cli


def parse_args(argv: list[str]) -> argparse.Namespace:
    """``argv`` parsed by the real parser; every argument must be known."""
    args, unknown = cli.build_parser().parse_known_args(argv)
    if unknown:
        raise ValueError(f"unknown arguments {unknown}")
    return args
