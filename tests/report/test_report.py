"""The HTML report: one offline file, sections from the registry, untrusted text escaped, rendered in Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

import intentkg.filter.report_section  # noqa: F401  (registers the filter section, as `intentkg report` does)
from intentkg.filter import FilterConfig, run_filter
from intentkg.filter.synthetic import synthetic_tables
from intentkg.report import build_report, registry, section
from intentkg.schemas import BEHAVIORS, CANDIDATES, PRODUCTS
from intentkg.workspace import Workspace

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic"]
EVIL_TAIL = "<script>alert('tail')</script> camping"
EVIL_TITLE = 'Dome Tent <img src=x onerror=alert(1)> "4-Pack"'


@pytest.fixture(scope="module")
def report(filtered_ws, tmp_path_factory) -> Path:
    return build_report(filtered_ws, tmp_path_factory.mktemp("report") / "report.html", seed=3, examples=4)


def test_report_is_one_offline_file_with_the_filter_section(report):
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert not re.search(r"""(src|href)=["'](?!#)""", html)  # nothing but in-page anchors
    assert 'id="overview"' in html and 'id="filter"' in html
    assert "Candidates surviving each step" in html and "<svg" in html
    assert "Relation distribution" in html and "used_for_event" in html
    for reason in ("generic_tail", "circular", "duplicate", "parse_failed"):
        assert f'<span class="tag bad">{reason}</span>' in html
    assert "kept (" in html


def test_examples_are_seeded(filtered_ws, report, tmp_path):
    again = build_report(filtered_ws, tmp_path / "again.html", seed=3, examples=4)
    strip = lambda text: re.sub(r"generated [^·]+·", "", text)  # noqa: E731
    assert strip(again.read_text()) == strip(report.read_text())


def test_untrusted_text_is_escaped(tmp_path):
    tables = synthetic_tables(80, seed=2, logprob_share=1.0)
    candidates = tables["candidates"].to_pylist()
    for row in candidates[:10]:
        row["tail"], row["parse_status"] = EVIL_TAIL, "ok"
    products = tables["products"].to_pylist()
    products[0]["title"] = EVIL_TITLE
    ws = Workspace(tmp_path / "ws")
    with ws.run("ingest", config={"t": 1}) as run:
        run.write("products", pa.Table.from_pylist(products, schema=PRODUCTS))
        run.write("behaviors", tables["behaviors"].cast(BEHAVIORS))
    with ws.run("generate", config={"t": 1}) as run:
        run.write("candidates", pa.Table.from_pylist(candidates, schema=CANDIDATES))
    config = FilterConfig.model_validate({"similarity": {"enabled": False}, "dedup": {"semantic": False},
                                          "completeness": {"scorer": "generation"}})
    run_filter(ws, config, quiet=True)
    html = build_report(ws, examples=20).read_text()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;tail&#x27;)&lt;/script&gt; camping" in html


def test_sections_are_pluggable_and_a_broken_one_does_not_break_the_page(filtered_ws, tmp_path):
    @section("zz_test", "Test <section>", order=999)
    def good(ctx):
        return f"<p>{len(ctx.workspace.stages())} stages</p>"

    @section("zz_broken", "Broken", order=1000)
    def broken(ctx):
        raise RuntimeError("boom <b>")

    try:
        html = build_report(filtered_ws, tmp_path / "r.html").read_text()
    finally:
        registry._SECTIONS.pop("zz_test")
        registry._SECTIONS.pop("zz_broken")
    assert "Test &lt;section&gt;" in html and "stages</p>" in html
    assert "this section failed: RuntimeError: boom &lt;b&gt;" in html
    assert html.index('id="overview"') < html.index('id="filter"') < html.index('id="zz_test"')


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make setup installs it)")
def test_renders_in_headless_chromium_without_network(report, tmp_path):
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                             "--proxy-server=127.0.0.1:9", report.as_uri()],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "Candidates surviving each step" in dom and "<svg" in dom and "Rejection reasons" in dom
