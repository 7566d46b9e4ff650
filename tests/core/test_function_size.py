"""The core and the stages' entry points stay readable: no function over 60 lines, no
parameter list over 8."""

from __future__ import annotations

import ast
from pathlib import Path

from blindpairs import stages

REPO = Path(__file__).resolve().parents[2]
MAX_LINES, MAX_PARAMS = 60, 8


def _modules() -> list[Path]:
    names = {s.entry_module for s in stages.STAGES} | set(stages.command_modules())
    names |= {"mining.plan", "pairs.incremental", "embeddings.params", "pairs.params"}
    paths = {REPO / (name.replace(".", "/") + ".py") for name in names}
    return sorted(paths | set((REPO / "blindpairs").glob("*.py")))


def test_no_long_function_or_parameter_list_in_the_core_and_entry_points() -> None:
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                a = node.args
                params = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
                if lines > MAX_LINES or params > MAX_PARAMS:
                    found.append(f"{path.relative_to(REPO)}:{node.name} {lines} lines, {params}")
    assert len(_modules()) > 20 and found == []
