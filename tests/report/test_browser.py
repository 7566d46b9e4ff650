"""The report in headless Chromium: no console errors, every image loads, a screenshot.

Needs Debian's ``chromium`` and the ``playwright`` Python package (its bundled
browsers are not used). Skipped when either is missing, unless
``BLINDPAIRS_REQUIRE_CHROMIUM=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from blindpairs.workspace import Workspace
from report.params import ReportParams
from report.stage import run_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _need_browser() -> None:
    missing = []
    if not os.path.exists(CHROMIUM):
        missing.append("chromium (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("playwright (pip install playwright)")
    if not missing:
        return
    reason = "headless browser test needs " + " and ".join(missing)
    if os.environ.get("BLINDPAIRS_REQUIRE_CHROMIUM") == "1":
        pytest.fail(reason + " (BLINDPAIRS_REQUIRE_CHROMIUM=1)")
    pytest.skip(reason)


def test_report_renders_in_headless_chromium(full_ws: Path, tmp_path: Path) -> None:
    _need_browser()
    from playwright.sync_api import sync_playwright

    assert run_report(Workspace(full_ws), ReportParams()).status == "written"
    index = (full_ws / "reports" / "index.html").resolve()
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    shot = tmp_path / "report.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(index.as_uri(), wait_until="load")
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, "
                "i.naturalWidth])"
            )
            sections = page.evaluate("document.querySelectorAll('main > section').length")
            svgs = page.evaluate("document.querySelectorAll('svg.fig').length")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert dialogs == []  # no markup from the data ran
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    assert len(images) == 12
    assert [src for src, done, width in images if not (done and width > 0)] == []
    assert sections == 7 and svgs == 5  # scatter, heat map, map, intervals, categories
    with Image.open(shot) as img:
        assert img.width >= 1280 and img.height > 900
