"""The serving loop as a user runs it, end to end with real parts: the app `intentkg serve run` builds
(:func:`intentkg.serve.server.build_app`) on a real uvicorn server on 127.0.0.1, `intentkg serve
precompute`, a miss that is queued, `intentkg serve refresh --model <student.gguf>` generating knowledge
for it through llama.cpp with the session's trained student (SmolLM2 + LoRA from `distill train`, its
lineage recorded by the training) and the real filter stage, then the same request as a hit, and the refresh's manifest naming
the student and its lineage.

Everything runs in this process (the CLI through typer's runner, the server in a thread): the same
code as the console scripts without three more interpreters importing torch, transformers and
llama.cpp again (the test took 49 s that way). `serve run` as a process of its own, with its
workers, is tested in test_experiment_http.py and test_workers.py."""

from __future__ import annotations

import json
import re
import sqlite3
import time

import httpx
import pytest
from helpers.kg_workspace import make_workspace
from helpers.on_demand import on_demand_yaml
from typer.testing import CliRunner

from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
from intentkg.llm import bundled
from intentkg.llm.model_files import file_hash
from intentkg.serve.runtime import serve_folder
from intentkg.serve.server import ServeSettings, build_app
from intentkg.serve.sqlite_store import SQLiteMissQueue

from .conftest import ServerThread

ON_DEMAND = on_demand_yaml(["used_for_event", "used_for_audience"], n_threads=1)


def _cli(*args):
    from intentkg.cli.main import cli

    result = CliRunner().invoke(cli, [str(a) for a in args], env={"INTENTKG_NO_PROGRESS": "1"})
    assert result.exit_code == 0, (result.output[-3000:], result.exception)
    return result.output


def _until(get, done, seconds: float):
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = get()
        except httpx.HTTPError:
            value = None
        if (value is not None and done(value)) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def _written(root) -> set[str]:
    """Every numbered answer line the model wrote, from the on-demand request cache, lower-cased."""
    (cache,) = list(root.rglob("requests.sqlite"))
    with sqlite3.connect(cache) as con:
        rows = con.execute("SELECT completions FROM requests").fetchall()
    numbered = re.compile(r"^\s*\d+\.\s*(.+)$")
    texts = [c["text"] for (completions,) in rows for c in json.loads(completions)]
    # a completion prompt ends with the list's "1.", a chat model writes it itself
    lines = [line for t in texts for line in (t if re.match(r"\s*\d+\.", t) else "1." + t).splitlines()]
    return {" ".join(m.group(1).lower().rstrip(".").split()) for m in map(numbered.match, lines)
            if m and m.group(1).strip()}


@pytest.mark.slow
def test_precompute_run_miss_refresh_with_the_student_hit(student, tmp_path):
    """The session's trained student (helpers/student_fixtures.py) fills the serving cache's tail."""
    ws = make_workspace(tmp_path)
    run_build(ws, BuildConfig(hierarchy=False))
    _cli("serve", "precompute", "-w", ws.root)
    record = student["gguf"].parent / "intentkg_lineage.json"  # written by distill train
    student = student["gguf"]
    with ServerThread(build_app(ServeSettings(str(ws.root)))) as server:
        url = f"{server.url}/v1/knowledge/query"
        assert httpx.get(url, params={"q": "winter camping gear"}).json()["outcome"] == "hit"
        miss = httpx.get(url, params={"q": "yoga mat for hot yoga classes"}).json()
        assert miss["outcome"] == "miss" and miss["queued"]
        # the server flushes its miss queue about every second: wait until the miss is on disk (a fixed
        # 1.5 s sleep bounds nothing on a slow machine, and the refresh would then find nothing queued)
        queue = SQLiteMissQueue(serve_folder(ws.root))
        assert _until(queue.pending, lambda p: ("q:yoga mat for hot yoga classes", 1) in p, 60) == \
            [("q:yoga mat for hot yoga classes", 1)]
        config = tmp_path / "on_demand.yaml"
        config.write_text(ON_DEMAND)
        out = _cli("serve", "refresh", "-w", ws.root, "--config", config, "--model", student)
        assert "1 queued misses" in out
        hit = _until(lambda: httpx.get(url, params={"q": "yoga mat for hot yoga classes"}).json(),
                     lambda r: r["outcome"] == "hit", 60)  # picked up within the store's check interval
        assert hit["outcome"] == "hit" and hit["entry"]["source"] == "tier2"
        assert hit["entry"]["intentions"], "the student produced nothing that survived the filters"
        assert all(i["source"] == "query_on_demand" for i in hit["entry"]["intentions"])
    # what is served is what the student wrote, read straight from the request cache (not through the code)
    written = _written(ws.root)
    for intention in hit["entry"]["intentions"]:
        assert " ".join(intention["intention"].lower().split()) in written, (intention, written)

    # the refresh is a run of the serve stage naming the student: its file hash an input, its lineage recorded
    manifest = ws.manifest("serve")
    digest = file_hash(student)
    assert digest != file_hash(bundled.smollm2_path())  # another file than the config's or the bundled model
    assert manifest.config["model"] == str(student)
    assert any(i.sha256 == digest for i in manifest.inputs), manifest.inputs
    (generator,) = manifest.extra["on_demand"]["generators"]
    assert generator["model_hash"] == digest and generator["origin"] == "distilled"
    assert generator["lineage"] == str(record)
    # the on-demand generate run loaded the student, not the config's Gemma
    scratch = ws.manifest("serve").extra["on_demand"]
    assert scratch["generator"] == f"llama_cpp:{student}"
