"""The CI skip policy refuses skips whose reason is not 'no GPU / vLLM'."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from skip_policy import disallowed


def test_only_gpu_and_vllm_reasons_are_allowed():
    reasons = [("a", "vllm not importable"), ("b", "no GPU lent"), ("c", "redis-server is not installed"),
               ("d", "../shared/data is only present in the dev/CI checkout")]
    assert disallowed(reasons) == [reasons[2], reasons[3]]


def test_a_strict_run_fails_on_a_refused_skip_and_passes_on_an_allowed_one(tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["skip_policy"]\n')
    (tmp_path / "test_x.py").write_text(textwrap.dedent("""
        import pytest
        def test_ok():
            assert True
        def test_gpu():
            pytest.skip("no GPU here")
    """))
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    env = {**os.environ, "INTENTKG_STRICT_SKIPS": "1", "PYTHONPATH": tests_dir}
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)]
    allowed = subprocess.run(args, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stdout
    assert "allowed  test_x.py::test_gpu: no GPU here" in allowed.stdout

    (tmp_path / "test_y.py").write_text("import pytest\ndef test_redis():\n    pytest.skip('redis-server missing')\n")
    refused = subprocess.run(args, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert refused.returncode == 1, refused.stdout
    assert "REFUSED  test_y.py::test_redis: redis-server missing" in refused.stdout
