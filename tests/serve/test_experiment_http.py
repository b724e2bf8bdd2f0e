"""Serving arms on a real uvicorn server: each response says its arm, the control arm gets no
knowledge, every exposure lands in the Parquet log, and the read-out runs on that log."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers.kg_workspace import make_workspace
from typer.testing import CliRunner

from intentkg.cli.experiment import app as experiment_cli
from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
from intentkg.serve.app import create_app
from intentkg.serve.arms import Arms
from intentkg.serve.experiment import ServingExperiment
from intentkg.serve.exposure_log import ExposureLog, exposure_folder, read_exposures
from intentkg.serve.refresh import precompute
from intentkg.serve.runtime import open_store
from intentkg.serve.tier1 import tier1_items

from .conftest import ServerThread


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    ws = make_workspace(tmp_path_factory.mktemp("arms"))
    run_build(ws, BuildConfig(hierarchy=False))
    _, writer, _ = open_store(ws.root)
    precompute(writer, tier1_items(ws))
    return ws


def test_arms_on_the_wire_and_in_the_exposure_log(workspace, tmp_path):
    store, _, queue = open_store(workspace.root)
    arms = Arms("kg-on-off", knowledge_share=0.5)
    log = ExposureLog(exposure_folder(tmp_path / "ws"))
    application = create_app(store, queue, flush_every=0.05,
                             experiment=ServingExperiment(arms, log))
    units = [f"user-{i}" for i in range(120)]
    seen: dict[str, set[str]] = {}
    with ServerThread(application) as server, httpx.Client(base_url=server.url) as client:
        for round_ in range(2):
            for i, unit in enumerate(units):
                if i % 3 == 0:
                    r = client.get("/v1/knowledge/query", params={"q": "winter camping gear"},
                                   headers={"X-Intentkg-Unit": unit})
                elif i % 3 == 1:
                    r = client.get("/v1/knowledge/query", params={"q": "winter camping gear", "unit_id": unit})
                else:
                    r = client.get("/v1/knowledge/pair", params={"q": "winter camping gear", "product_id": "M1",
                                                                 "unit_id": unit})
                body = r.json()
                seen.setdefault(unit, set()).add(body["arm"])
                if body["arm"] == "control":
                    assert body.get("entry") is None and body.get("text", "") == ""
                    assert body.get("outcome", "withheld") == "withheld"
                elif "entry" in body:
                    assert body["outcome"] == "hit" and body["entry"]["intentions"]
                else:
                    assert body["text"]
        outside = client.get("/v1/knowledge/query", params={"q": "winter camping gear"}).json()
        assert outside["arm"] is None and outside["entry"]["intentions"]  # no unit: not in the experiment
        bad = client.get("/v1/knowledge/query", params={"q": "winter camping gear", "unit_id": "a b"})
        assert bad.status_code == 400
        email = client.get("/v1/knowledge/query", params={"q": "winter camping gear", "unit_id": "jane@example.com"})
        assert email.status_code == 400 and "personal data (EMAIL)" in email.json()["detail"]
        assert client.get("/v1/knowledge/product/M1", params={"unit_id": "1234567890"}).json()["arm"]
    assert all(len(a) == 1 for a in seen.values())  # a unit keeps its arm
    assert {u: a.pop() for u, a in seen.items()} == {u: arms.assign(u).arm for u in units}
    log_table = read_exposures(exposure_folder(tmp_path / "ws"))  # flushed by the server's tick and shutdown
    assert log_table.num_rows == 2 * len(units) + 1  # + the numeric id
    rows = log_table.to_pylist()
    assert {r["outcome"] for r in rows} == {"hit"} and {r["experiment_id"] for r in rows} == {"kg-on-off"}
    assert {r["key"] for r in rows} == {"q:winter camping gear", "q:winter camping gear p:M1", "p:M1"}

    # the read-out on what the deployment logged: arms from the log, metrics from elsewhere
    rng = np.random.default_rng(0)
    arm = np.array([arms.assign(u).arm for u in units])
    sales = rng.normal(100, 5, len(units)) + np.where(arm == "treatment", 4.0, 0.0)
    metrics = tmp_path / "metrics.parquet"
    pq.write_table(pa.table({"unit_id": units + ["user-never-seen"], "sales": np.append(sales, 1.0)}), metrics)
    result = CliRunner().invoke(experiment_cli, ["analyze", str(metrics), "--exposures",
                                                 str(exposure_folder(tmp_path / "ws")), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["srm"]["counts"] == {"control": int((arm == "control").sum()), "treatment": int((arm == "treatment").sum())}
    assert doc["quarantine"]["by_reason"] == {"not_exposed": 1, "no_metrics": 1}  # 1234567890 has no row
    sales_row = doc["metrics"][0]
    assert sales_row["significant"] and sales_row["ci_low"] < 4.0 < sales_row["ci_high"]


def test_serve_run_with_an_experiment_writes_the_exposure_log(workspace, tmp_path):
    """The command a deployment runs: `intentkg serve run --experiment ID --knowledge-share S`."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from .conftest import free_port

    port = free_port()
    env = dict(os.environ, INTENTKG_NO_PROGRESS="1")
    log_path = tmp_path / "server.log"
    log = open(log_path, "wb")  # a file, not pipes nobody reads while it runs
    process = subprocess.Popen([sys.executable, "-m", "intentkg.cli.main", "serve", "run", "-w", str(workspace.root),
                                "--port", str(port), "--experiment", "cli-test", "--knowledge-share", "0.3"],
                               stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(log_path.read_text(errors="replace")[-3000:])
                time.sleep(0.2)
        arms = {httpx.get(f"http://127.0.0.1:{port}/v1/knowledge/query",
                          params={"q": "winter camping gear", "unit_id": f"s{i}"}).json()["arm"] for i in range(40)}
        assert arms == {"control", "treatment"}
    finally:
        process.send_signal(signal.SIGINT)  # graceful: the lifespan flushes the log at shutdown
        process.wait(timeout=60)
        log.close()
    log = read_exposures(exposure_folder(workspace.root))
    assert log.num_rows == 40 and set(log.column("knowledge_share").to_pylist()) == {0.3}
    assert log.column("arm").to_pylist() == [Arms("cli-test", 0.3).assign(f"s{i}").arm for i in range(40)]
