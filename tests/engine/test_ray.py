"""The demo workspace on a real local 2-CPU Ray cluster against the local engine, stage by stage:
generate (bundled Gemma 3 270M on llama.cpp in Ray worker processes, one SIGKILLed mid-run), filter
(rules, the llama.cpp completeness scorer, MiniLM embeddings and the critic trained by train-critic,
each in Ray worker processes, the scores written by the workers as a folder of parts) and the KG
build (on the driver, reading those parts). Candidates and scores must be the same byte for byte,
the KG the same rows."""

from __future__ import annotations

import os
import shutil
import signal
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers.filter_workspace import trained_critic_base, trained_critic_workspace
from helpers.kill import finished, killed
from intentkg.errors import IntentkgError
from intentkg.filter import FilterConfig, run_filter
from intentkg.generate import GenerateConfig, run_generate
from intentkg.generate.request_cache import RequestCache, shard_paths
from intentkg.ingest import run_ingest
from intentkg.ingest.demo import demo_config
from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
from intentkg.workspace import Workspace

CALLS = 4
GENERATE = {"selection": {"limit": 2}, "relations": ["used_for_function", "xWant"], "batch_size": 1,
            "sampling": {"max_tokens": 16, "seed": 3}, "backend": {"options": {"n_threads": 1, "parallel": 2}}}


def _kill_first_worker(ws: Path, killed: list[int]) -> None:
    """SIGKILL the actor that commits the first answer to its cache shard (its pid is in the name)."""
    import sqlite3
    import time

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for shard in shard_paths(ws / ".cache" / "llm"):
            try:
                with sqlite3.connect(f"file:{shard}?mode=ro", uri=True, timeout=1) as con:
                    answered = con.execute("SELECT count(*) FROM requests").fetchone()[0]
            except sqlite3.Error:
                continue
            if answered:
                pid = int(shard.stem.split("-")[-2])  # <run>-<host>-<pid>-<nonce>
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
        time.sleep(0.05)


def _pipeline(root: Path, engine: dict | str, critic: Path, kill_a_worker: bool = False) -> tuple[Path, list[int]]:
    run_ingest(demo_config(), root)
    killed: list[int] = []
    killer = threading.Thread(target=_kill_first_worker, args=(root, killed), daemon=True) if kill_a_worker else None
    if killer:
        killer.start()
    run_generate(GenerateConfig.model_validate({**GENERATE, "engine": engine}), root)
    if killer:
        killer.join(timeout=5)
    config = FilterConfig.model_validate({"critic": {"path": str(critic)}, "completeness": {"scorer": "llama",
                                                                                            "n_threads": 1},
                                          "engine": engine})
    run_filter(root, config, quiet=True)
    run_build(root, BuildConfig(hierarchy=False))
    return root, killed


@pytest.fixture(scope="module")
def both(ray_cluster, tmp_path_factory):
    critic = trained_critic_workspace(trained_critic_base(tmp_path_factory)) / "critic"
    base = tmp_path_factory.mktemp("engines")
    local, _ = _pipeline(base / "local", "local", critic)
    ray, killed = _pipeline(base / "ray", {"name": "ray", "workers": 1}, critic, kill_a_worker=True)
    return local, ray, killed


def _table(ws: Path, relative: str):
    path = ws / relative
    if path.is_dir():  # a partitioned table: its files in name order
        # the build writes edges one relation at a time: partitions may differ in a field's nullability
        return pa.concat_tables([pq.read_table(f) for f in sorted(path.rglob("*.parquet"))],
                                promote_options="default")
    return pq.read_table(path)


@pytest.mark.parametrize("stage, table", [("generate", "candidates"), ("filter", "scores")])
def test_ray_engine_writes_the_tables_of_the_local_engine_byte_for_byte(both, stage, table):
    local, ray, _ = both
    expected, got = Workspace(local).read(stage, table), Workspace(ray).read(stage, table)
    assert got.num_rows == expected.num_rows > 0
    assert got.equals(expected)  # same rows, same order, same values


@pytest.mark.parametrize("stage, table", [("generate", "candidates"), ("filter", "scores")])
def test_the_workers_wrote_the_table_as_parts_committed_with_the_manifest(both, stage, table):
    local, ray, _ = both
    assert Workspace(local).table_path(stage, table).is_file()  # one writer: one file
    folder = Workspace(ray).table_path(stage, table)
    assert folder.is_dir() and [p.name for p in folder.iterdir()] == ["part-000000000.parquet"]
    manifest = Workspace(ray).committed(stage)
    assert manifest.outputs[table].path == table and manifest.outputs[table].rows == \
        Workspace(local).committed(stage).outputs[table].rows


@pytest.mark.parametrize("table", ["kg/nodes.parquet", "kg/edges"])
def test_ray_engine_builds_the_kg_of_the_local_engine(both, table):
    """The same rows; their order within a node kind follows DuckDB's parallel aggregation, which does
    not depend on the engine but is not fixed from one build to the next either (docs/ray.md)."""
    local, ray, _ = both
    expected, got = _table(local, table), _table(ray, table)
    keys = [(c, "ascending") for c in expected.column_names if not pa.types.is_list(expected.schema.field(c).type)]
    assert got.num_rows == expected.num_rows > 0
    assert got.sort_by(keys).equals(expected.sort_by(keys))


def test_the_killed_worker_repeated_no_finished_call(both):
    _, ray, killed = both
    assert killed, "no worker was killed"
    with RequestCache(ray / ".cache" / "llm") as cache:
        assert cache.calls() == (CALLS, CALLS)
    assert shard_paths(ray / ".cache" / "llm") == []


@pytest.mark.parametrize("kill", ["a worker", "the driver"])
def test_a_killed_candidates_writer_leaves_no_half_written_stage(both, ray_cluster, tmp_path, kill):
    """A worker SIGKILLed with its part written but not yet in place: Ray retries its block in a new
    process and the run commits the whole table (as the local engine writes it). The driver SIGKILLed
    after the workers wrote every part but before the journal: the old table stands whole."""
    local, _, _ = both
    for name in ("ray", "local"):
        shutil.copytree(local, tmp_path / name, ignore=shutil.ignore_patterns("kg", "filter"))
    old = Workspace(tmp_path / "ray").read("generate", "candidates")
    # generate again from the cached answers with one item an answer: another table, no new call
    run_generate(GenerateConfig.model_validate({**GENERATE, "max_items": 1}), tmp_path / "local")
    new = Workspace(tmp_path / "local").read("generate", "candidates")
    assert 0 < new.num_rows < old.num_rows
    marker = tmp_path / "killed-once"
    env = {"INTENTKG_KILL_AT": "candidates:part", "INTENTKG_KILL_ONCE": str(marker)} if kill == "a worker" else {}
    config = {**GENERATE, "max_items": 1, "engine": {"name": "ray", "workers": 1}}
    code = f"""
        import ray
        ray.init(address={ray_cluster!r}, log_to_driver=False, logging_level="WARNING",
                 runtime_env={{"env_vars": {env!r}}})  # the job's workers get these
        from intentkg.generate import GenerateConfig, run_generate
        run_generate(GenerateConfig.model_validate({config!r}), {str(tmp_path / "ray")!r})"""
    ws = Workspace(tmp_path / "ray")
    if kill == "a worker":
        finished(code, RAY_AUTH_MODE="disabled")
        assert marker.exists()  # a worker did die at the point
        folder = ws.table_path("generate", "candidates")
        assert [p.name for p in folder.iterdir()] == ["part-000000000.parquet"]  # no temporary file left
        assert ws.read("generate", "candidates").equals(new)
    else:
        killed(code, "generate:commit:staged", RAY_AUTH_MODE="disabled")
        manifest = ws.committed("generate")
        assert pq.read_table(ws.output_path("generate", "candidates")).equals(old)  # whole, the old version
        assert ws.changed_outputs(manifest) == [] and manifest.counts["candidates"] == old.num_rows
        with pytest.raises(IntentkgError, match="its last run was interrupted"):
            ws.read("generate", "candidates")
