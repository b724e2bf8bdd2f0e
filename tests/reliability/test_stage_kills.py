"""SIGKILL filter, build, train-critic and eval at several points of their runs and commits: `intentkg status`
says what happened, readers never see a mixed stage, and the re-run gives the uninterrupted result.

Each stage runs on a small copy of a prepared workspace (copying also checks that a workspace works
where it was copied to); the child process kills itself at a named point (``INTENTKG_KILL_AT``). Every
point of the commit itself is killed in tests/workspace/test_commit.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers.kill import killed
from typer.testing import CliRunner

from intentkg.workspace import Workspace


def _status(root: Path) -> str:
    from intentkg.cli.main import cli

    result = CliRunner().invoke(cli, ["status", str(root)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _status_of(root: Path, stage: str) -> str:
    """The status word `intentkg status` prints for ``stage``."""
    for line in _status(root).splitlines():
        cells = [c.strip() for c in line.replace("│", "|").split("|") if c.strip()]
        if cells and cells[0] == stage:
            return cells[1]
    raise AssertionError(f"{stage} not in status output:\n{_status(root)}")


def _table(path: Path, key: str, drop: tuple[str, ...] = ()) -> list[dict]:
    table = pq.read_table(path)
    return sorted((dict((k, v) for k, v in r.items() if k not in drop) for r in table.to_pylist()),
                  key=lambda r: json.dumps(r, sort_keys=True, default=str))


def _code(template: str, root: Path, **values: str) -> str:
    for name, value in {"ROOT": repr(str(root)), "TESTS": repr(str(Path(__file__).parents[1])), **values}.items():
        template = template.replace(name, value)
    return template


def _copy(base: Path, tmp_path: Path) -> Path:
    shutil.copytree(base, tmp_path / "ws", symlinks=True)
    return tmp_path / "ws"


def _prepared(tmp_path_factory, name: str, prepare, run, contents) -> tuple[Path, dict]:
    """A prepared workspace (``prepare(base)``) and the contents of an uninterrupted ``run`` on a copy."""
    base = tmp_path_factory.mktemp(name) / "base"
    prepare(base)
    reference = tmp_path_factory.mktemp(f"{name}-ref") / "ws"
    shutil.copytree(base, reference)
    run(reference)
    return base, contents(reference)


def _after_kill(point: str) -> str:
    """What `intentkg status` must say after a kill there: once the journal is written the commit is decided,
    and the first reader (status itself) finishes it."""
    decided = ":commit:" in point and not point.endswith(":commit:staged")
    return "complete" if decided else "interrupted"


def _kill_then_rerun(prepared, tmp_path: Path, kill_at: list[str], code: str, rerun, contents, status_of: str,
                     ws=lambda root: root) -> None:
    """Run the stage and kill it at each point of ``kill_at`` in turn (a killed run, then a killed re-run,
    ...), check `intentkg status` after each, then re-run it to the end."""
    base, reference = prepared
    root = _copy(base, tmp_path)
    for point in kill_at:
        killed(_code(code, root), point)
        assert _status_of(ws(root), status_of) == _after_kill(point)
    rerun(root)
    assert _status_of(ws(root), status_of) == "complete"
    assert contents(root) == reference


# -- filter ------------------------------------------------------------------------------
FILTER = {"similarity": {"enabled": False}, "dedup": {"semantic": False}, "completeness": {"scorer": "generation"},
          "generic": {"min_heads": 5, "min_groups": 3, "min_entropy_bits": 1.5}}
FILTER_CODE = """
from intentkg.filter import FilterConfig, run_filter
run_filter(ROOT, FilterConfig.model_validate(CONFIG), quiet=True)
""".replace("CONFIG", repr(FILTER))


def _filter(root: Path) -> None:
    from intentkg.filter import FilterConfig, run_filter

    run_filter(root, FilterConfig.model_validate(FILTER), quiet=True)


def _filter_contents(root: Path) -> dict:
    ws = Workspace(root)
    return {"scores": _table(ws.table_path("filter", "scores"), "candidate_id"),
            "funnel": ws.manifest("filter").counts["funnel"],
            "operating_point": json.loads(ws.output_path("filter", "operating_point.json").read_text())}


@pytest.fixture(scope="module")
def filter_base(tmp_path_factory) -> tuple[Path, dict]:
    from intentkg.filter.synthetic import write_synthetic_workspace

    return _prepared(tmp_path_factory, "filter", lambda base: write_synthetic_workspace(
        base, 300, seed=1, logprob_share=1.0), _filter, _filter_contents)


def test_filter_killed(filter_base, tmp_path):
    _kill_then_rerun(filter_base, tmp_path, ["filter:step:dedup", "filter:write:scores", "filter:commit:moving"],
                     FILTER_CODE, _filter, _filter_contents, "filter")


# -- build -------------------------------------------------------------------------------
BUILD_CODE = """
from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
run_build(ROOT + "/ws", BuildConfig(hierarchy=False))
"""


def _build(root: Path) -> None:
    from intentkg.kg.build import run_build
    from intentkg.kg.config import BuildConfig

    run_build(root / "ws", BuildConfig(hierarchy=False))


def _kg_contents(root: Path) -> dict:
    kg = Workspace(root / "ws").read_dir("kg")
    return {"nodes": _table(kg / "nodes.parquet", "node_id"),
            "edges": {str(p.relative_to(kg)): _table(p, "edge_id") for p in (kg / "edges").rglob("*.parquet")},
            "rows": {k: o.rows for k, o in Workspace(root / "ws").manifest("kg").outputs.items()}}


@pytest.fixture(scope="module")
def kg_base(tmp_path_factory) -> tuple[Path, dict]:
    from helpers.kg_workspace import make_workspace

    return _prepared(tmp_path_factory, "kg", make_workspace, _build, _kg_contents)


@pytest.mark.parametrize("point", ["step:edges", "commit:moving"])
def test_build_killed(kg_base, tmp_path, point):
    _kill_then_rerun(kg_base, tmp_path, [f"kg:{point}"], BUILD_CODE, _build, _kg_contents, "kg",
                     ws=lambda root: root / "ws")


# -- train-critic ------------------------------------------------------------------------
CRITIC_CODE = """
from intentkg.critic.stage import CriticConfig, run_train_critic
from intentkg.critic.train import TrainConfig
run_train_critic(ROOT, CriticConfig(train=TrainConfig(model=MODEL, epochs=1, max_length=24, batch_size=16,
                                                          threads=1)))
"""


def _critic(root: Path, model: str) -> None:
    from intentkg.critic.stage import CriticConfig, run_train_critic
    from intentkg.critic.train import TrainConfig

    run_train_critic(root, CriticConfig(train=TrainConfig(model=model, epochs=1, max_length=24, batch_size=16,
                                                          threads=1)))


def _critic_contents(root: Path) -> dict:
    ws = Workspace(root)
    folder = ws.read_dir("critic")
    meta = json.loads((folder / "intentkg_critic.json").read_text())
    predictions = _table(folder / "critic_predictions.parquet", "candidate_id")
    return {"critic_id": meta["critic_id"], "thresholds": meta["thresholds"],
            "predictions": [(p["candidate_id"], p["task"], round(p["calibrated"], 4)) for p in predictions],
            "outputs": sorted(ws.manifest("critic").outputs), "labels": ws.manifest("annotate").outputs["labels"].rows}


@pytest.fixture(scope="module")
def critic_base(tmp_path_factory) -> tuple[Path, str, dict]:
    pytest.importorskip("transformers")
    from helpers.filter_workspace import make_tiny_critic

    from intentkg.annotate.formats import import_file
    from intentkg.annotate.formats.records import load_titles
    from intentkg.annotate.store import Store
    from intentkg.demo_data import demo_path

    folder = tmp_path_factory.mktemp("critic")
    model = str(make_tiny_critic(folder / "tiny", "two_heads") / "plausibility")  # a small real encoder
    subset = folder / "subset.jsonl"
    subset.write_text("".join(demo_path("annotated_candidates.jsonl").read_text().splitlines(True)[:160]))
    base = folder / "base"
    import_file(Store.for_workspace(base), subset, titles=load_titles(demo_path("products.csv")))
    reference = folder / "reference"
    shutil.copytree(base, reference)
    _critic(reference, model)
    return base, model, _critic_contents(reference)


@pytest.mark.parametrize("point", ["annotate:commit:journal", "critic:write:critic_predictions"])
def test_train_critic_killed(critic_base, tmp_path, point):
    base, model, reference = critic_base
    root = _copy(base, tmp_path)
    killed(_code(CRITIC_CODE, root, MODEL=repr(model)), point)
    assert _status_of(root, point.split(":")[0]) == _after_kill(point)
    _critic(root, model)
    assert _status_of(root, "critic") == "complete" and _status_of(root, "annotate") == "complete"
    assert _critic_contents(root) == reference


# -- eval --------------------------------------------------------------------------------
EVAL_CODE = """
from pathlib import Path
from intentkg.eval.config import EvalConfig, KnowledgeConfig
from intentkg.eval.esci_data import EsciDataConfig
from intentkg.eval.stage import run_esci_eval
run_esci_eval(ROOT + "/kgws/ws", EvalConfig(data=EsciDataConfig(path=Path(ROOT) / "esci"), heads=["logreg"],
              seeds=1, n_boot=50, encoders=["bi"], tasks=["esci"], knowledge=KnowledgeConfig(min_similarity=0.3)))
"""


def _eval(root: Path) -> None:
    namespace: dict = {}
    exec(_code(EVAL_CODE, root), namespace)


def _eval_contents(root: Path) -> dict:
    ws = Workspace(root / "kgws" / "ws")
    folder = ws.read_dir("eval-esci")
    results = json.loads((folder / "results.json").read_text())
    return {"results": results["results"], "headline": results["headline"],
            "predictions": _table(folder / "predictions.parquet", "example_id"),
            "inputs": sorted(i.name for i in ws.manifest("eval-esci").inputs if i.kind == "stage")}


@pytest.fixture(scope="module")
def eval_base(tmp_path_factory) -> tuple[Path, dict]:
    pytest.importorskip("sentence_transformers")
    from eval.conftest import write_esci  # noqa: the tiny ESCI set of the eval tests
    from helpers.kg_workspace import make_workspace

    def prepare(base: Path) -> None:
        make_workspace(base / "kgws")
        _build(base / "kgws")
        write_esci(base / "esci")

    return _prepared(tmp_path_factory, "eval", prepare, _eval, _eval_contents)


def test_eval_killed(eval_base, tmp_path):
    _kill_then_rerun(eval_base, tmp_path, ["eval-esci:step:knowledge", "eval-esci:step:heads"], EVAL_CODE, _eval,
                     _eval_contents, "eval-esci",
                     ws=lambda root: root / "kgws" / "ws")
    assert eval_base[1]["inputs"] == ["ingest", "kg"]  # the behaviours the lookup reads are declared


# -- ingest and generate: the commit of the first stages -----------------------------------
FIRST_CODE = """
import sys
sys.path.insert(0, TESTS)
import helpers.fake_llm  # registers the fake backend
from helpers.kg_workspace import PAIRS, PRODUCTS, SEARCH
from intentkg.generate.config import GenerateConfig
from intentkg.generate.stage import run_generate
from intentkg.ingest import IngestConfig, run_ingest
from intentkg.ingest.config import TableSource
from pathlib import Path
root = Path(ROOT)
run_ingest(IngestConfig(sources=[TableSource(role="products", path=root / "products.csv"),
                                 TableSource(role="co_buy", path=root / "pairs.csv"),
                                 TableSource(role="search_log", path=root / "search.csv")]), root / "ws")
run_generate(GenerateConfig.model_validate({"backend": {"name": "fake", "model": "fake-1"},
                                            "relations": ["used_for_event"], "template": "qa_fewshot"}), root / "ws")
"""


def _first_stages(root: Path) -> None:
    namespace: dict = {}
    exec(_code(FIRST_CODE, root), namespace)


def _first_contents(root: Path) -> dict:
    ws = Workspace(root / "ws")
    # source_file names the input as given: the copy read its own copy of the CSVs
    return {"behaviors": _table(ws.table_path("ingest", "behaviors"), "behavior_id", drop=("source_file",)),
            "candidates": _table(ws.table_path("generate", "candidates"), "candidate_id")}


@pytest.fixture(scope="module")
def first_base(tmp_path_factory) -> tuple[Path, dict]:
    from helpers.kg_workspace import PAIRS, PRODUCTS, SEARCH

    def prepare(base: Path) -> None:
        base.mkdir(parents=True)
        for name, text in (("products.csv", PRODUCTS), ("pairs.csv", PAIRS), ("search.csv", SEARCH)):
            (base / name).write_text(text)

    return _prepared(tmp_path_factory, "first", prepare, _first_stages, _first_contents)


@pytest.mark.parametrize("point", ["ingest:write:behaviors", "ingest:commit:moving", "generate:commit:journal"])
def test_ingest_and_generate_killed(first_base, tmp_path, point):
    _kill_then_rerun(first_base, tmp_path, [point], FIRST_CODE, _first_stages, _first_contents, point.split(":")[0],
                     ws=lambda root: root / "ws")
