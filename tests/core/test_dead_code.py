"""No dead code at module level: every function, class and constant is used somewhere."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

from blindpairs import stages

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("blindpairs", *stages.packages(), "bench")


def _defined(tree: ast.Module) -> list[str]:
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [n for n in names if not n.startswith("__")]


def test_every_module_level_name_is_used_beyond_its_definition() -> None:
    sources = [  # the project's own files: no hidden folder (.venv, .venv-labelstudio, .git)
        p
        for p in REPO.rglob("*.py")
        if not any(part.startswith(".") for part in p.relative_to(REPO).parts)
    ]
    words = Counter(w for p in sources for w in re.findall(r"\w+", p.read_text(encoding="utf-8")))
    unused: list[str] = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for name in _defined(tree):
                if words[name] <= 1:
                    unused.append(f"{path.relative_to(REPO)}: {name}")
    assert unused == []
