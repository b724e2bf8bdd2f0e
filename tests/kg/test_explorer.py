"""The explorer page in a real headless Chromium: search, intentions, linked products, escaping."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
from intentkg.kg.explorer import write_explorer

from helpers.kg_workspace import PRODUCTS, make_workspace

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic"]


def _dom(page: Path, fragment: str, profile: Path) -> str:
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=3000",
                             "--dump-dom", page.as_uri() + fragment], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("explorer")
    # an untrusted title with markup: it must show as text, never become an element
    products = PRODUCTS.replace("Arctic Self-Inflating Air Mattress", '"Arctic <img src=x onerror=alert(1)> Mattress"')
    ws = make_workspace(root, products=products)
    run_build(ws, BuildConfig(hierarchy=False))
    return write_explorer(ws)


def test_page_is_self_contained_and_escapes_titles(page):
    text = page.read_text()
    assert "<img src=x" not in text and "http://" not in text and "https://" not in text


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make setup installs it)")
def test_search_shows_intentions_and_linked_products(page, tmp_path):
    dom = _dom(page, "#q=winter%20camping%20gear", tmp_path / "profile")
    assert "query: winter camping gear" in dom.lower()
    assert "snowy mountains" in dom and "used_for_event" in dom
    assert "Summit 0F Mummy Sleeping Bag" in dom  # linked through the shared intention
    dom = _dom(page, "#q=mattress", tmp_path / "profile2")
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom and "<img" not in dom


def test_build_rebuilds_an_existing_explorer_page(tmp_path):
    """Old code left kg/explorer.html showing the KG before the rebuild."""
    from typer.testing import CliRunner

    from intentkg.cli.main import cli

    ws = make_workspace(tmp_path)
    run_build(ws, BuildConfig(hierarchy=False))
    page = write_explorer(ws)
    assert "snowy mountains" in page.read_text()  # plausibility 0.6
    result = CliRunner().invoke(cli, ["build", "-w", str(ws.root), "--min-plausibility", "0.65", "--force",
                                      "--no-hierarchy"])
    assert result.exit_code == 0, result.output
    assert "snowy mountains" not in page.read_text() and "winter camping" in page.read_text()
