"""The stage table (blindpairs/stages.py) is the one statement of verb -> package -> paths."""

from __future__ import annotations

import ast
import importlib
import logging
from pathlib import Path

import pytest

from blindpairs import cli, stages
from blindpairs.commands import setup_logging
from blindpairs.status import workspace_status
from blindpairs.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]


def _architecture_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Architecture\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def test_readme_architecture_table_is_the_generated_one() -> None:
    section = _architecture_section()
    table = [line for line in section.splitlines() if line.startswith("|")]
    assert "\n".join(table) == stages.markdown_table()


def test_each_verb_is_registered_by_the_module_the_table_names() -> None:
    owner = {s.verb: s.cli_module for s in stages.STAGES} | {t.verb: t.module for t in stages.TOOLS}
    found: dict[str, str] = {}
    for module in cli.COMMAND_MODULES:
        for command in importlib.import_module(module).COMMANDS:
            found[command.name] = module
    assert found == owner
    assert stages.command_modules() == cli.COMMAND_MODULES


def test_help_shows_each_stage_with_its_package(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    lines = capsys.readouterr().out.splitlines()
    for stage in stages.STAGES:
        assert any(line.split()[:2] == [stage.verb, f"{stage.package}/"] for line in lines)
    assert max(map(len, lines)) <= 80


def test_status_names_each_stage_s_package(tmp_path, capsys) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.root.mkdir()
    assert [s.stage for s in workspace_status(ws)] == [s.verb for s in stages.STAGES]
    assert cli.main(["status", "-w", str(ws.root)]) == 0
    rows = {line.split()[0]: line.split()[2] for line in capsys.readouterr().out.splitlines()[2:]}
    assert rows == {s.verb: f"{s.package}/" for s in stages.STAGES}


def test_every_stage_package_logs_at_info() -> None:
    setup_logging(0)
    for package in stages.packages():
        assert logging.getLogger(f"{package}.stage").getEffectiveLevel() == logging.INFO


def _workspace_paths() -> set[str]:
    """Every path a Workspace names, relative to its root, with its parent folders."""
    ws = Workspace("W")
    out: set[str] = set()
    for name in dir(Workspace):
        attr = getattr(Workspace, name)
        if isinstance(attr, property) and name != "root":
            path = getattr(ws, name).relative_to(ws.root)
            out.update({str(path), *(str(p) for p in path.parents if str(p) != ".")})
    return out | {str(ws.encoder_dir("e").relative_to(ws.root).parent)}


def test_table_paths_are_workspace_paths() -> None:
    known = _workspace_paths()
    for stage in stages.STAGES:
        for path in stage.reads + stage.writes:
            plain = "/".join(p for p in path.rstrip("/").split("/") if not p.startswith("<"))
            assert plain in known, (stage.verb, path)


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
    return out


def test_no_stage_package_imports_another() -> None:
    packages = set(stages.packages())
    crossings: dict[str, set[str]] = {}
    for package in packages:
        for path in sorted((REPO / package).rglob("*.py")):
            for module in _imported(path):
                top = module.split(".")[0]
                if top in packages - {package} and module not in stages.BORROWS.get(package, ()):
                    crossings.setdefault(str(path.relative_to(REPO)), set()).add(module)
    assert crossings == {}
    # the one borrow is real (else the exception should go)
    clip = _imported(REPO / "evaluation" / "backends" / "clip.py")
    assert set(stages.BORROWS["evaluation"]) <= clip


def test_importing_the_table_imports_no_stage() -> None:
    import subprocess
    import sys

    code = (
        "import sys, blindpairs.stages; "
        f"print([m for m in {stages.packages()!r} if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
    )
    assert done.stdout.strip() == "[]"


def _section(title: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def test_readme_stages_table_is_the_generated_one() -> None:
    table = [line for line in _section("The stages").splitlines() if line.startswith("|")]
    assert "\n".join(table) == stages.usage_table()


def test_each_stage_s_make_target_exists_and_runs_its_verb() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    for stage in stages.STAGES:
        target = stage.make_target or stage.verb
        recipe = makefile.split(f"\n{target}:", 1)
        assert len(recipe) == 2, f"no make target {target!r} for {stage.verb}"
        assert f"$(BP) {stage.verb} " in recipe[1].split("\n\n", 1)[0]
