"""The evaluation's encoding and `intentkg serve refresh` with ``--engine ray`` on the session's real
local cluster, against the local engine on a copy of the same workspace (each with its own caches,
so the Ray side really computes): the bundled MiniLM encodes the evaluation's texts on Ray workers
and the predictions, knowledge texts and results are the same; the refresh generates on-demand
knowledge with the bundled Gemma (llama.cpp) and filters it on Ray, and writes the same snapshot."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from eval.conftest import write_esci
from helpers.kg_workspace import make_workspace
from helpers.on_demand import on_demand_yaml
from typer.testing import CliRunner

from intentkg.eval.config import EvalConfig, KnowledgeConfig
from intentkg.eval.esci_data import EsciDataConfig
from intentkg.eval.stage import run_esci_eval
from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
from intentkg.workspace import Workspace

RAY = {"name": "ray", "workers": 1}


def _kg_workspace(root) -> Workspace:
    ws = make_workspace(root)
    run_build(ws, BuildConfig(hierarchy=False))
    return ws


def test_the_evaluation_encodes_on_ray_and_measures_what_the_local_engine_measures(ray_cluster, tmp_path):
    esci = write_esci(tmp_path / "esci")
    docs, folders = {}, {}
    for name, engine in (("local", "local"), ("ray", RAY)):
        ws = _kg_workspace(tmp_path / name)
        config = EvalConfig(data=EsciDataConfig(path=esci), heads=["logreg"], seeds=1, n_boot=50, encoders=["bi"],
                            tasks=["esci"], knowledge=KnowledgeConfig(min_similarity=0.3), engine=engine)
        docs[name], folders[name] = run_esci_eval(ws, config), ws.stage_dir("eval-esci")
        assert ws.manifest("eval-esci").counts["embedding_cache_misses"] > 0  # encoded now, not read back
    for table in ("predictions.parquet", "knowledge.parquet"):
        assert pq.read_table(folders["ray"] / table).equals(pq.read_table(folders["local"] / table))
    assert docs["ray"]["results"] == docs["local"]["results"] and docs["ray"]["headline"] == docs["local"]["headline"]


MISSES = ["yoga mat for hot yoga classes", "gift for a new gardener"]


@pytest.mark.slow
def test_serve_refresh_on_ray_writes_the_snapshot_of_the_local_engine(ray_cluster, tmp_path):
    from intentkg.cli.main import cli
    from intentkg.serve.keys import decode, query_cache_key
    from intentkg.serve.runtime import open_store

    config = tmp_path / "on_demand.yaml"
    config.write_text(on_demand_yaml(["used_for_event"], max_tokens=24, n_threads=1))
    snapshots = {}
    for name in ("local", "ray"):
        ws = _kg_workspace(tmp_path / name)
        _, writer, queue = open_store(ws.root)
        for query in MISSES:
            queue.add(query_cache_key(query))
        queue.flush()  # what a server does every second
        result = CliRunner().invoke(cli, ["serve", "refresh", "-w", str(ws.root), "--config", str(config),
                                          "--no-nearest", "--engine", name])
        assert result.exit_code == 0, result.output
        assert "2 queued misses" in result.output
        snapshots[name] = dict(writer.items())
        on_demand = Workspace(ws.root / ".cache" / "on_demand")
        assert on_demand.manifest("generate").counts.get("engine", "local") == name  # where the calls ran
        assert on_demand.manifest("filter").extra["engine"]["name"] == name
    assert snapshots["ray"] == snapshots["local"]
    answered = [decode(snapshots["ray"][query_cache_key(q)]) for q in MISSES]
    assert any(entry["intentions"] for entry in answered), "Gemma wrote nothing that survived the filter"
    assert all(i["source"] == "query_on_demand" for entry in answered for i in entry["intentions"])
