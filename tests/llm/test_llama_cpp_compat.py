from __future__ import annotations

import llama_cpp.llama as llama_module

from intentkg.llm import llama_cpp_compat
from intentkg.llm.llama_cpp_compat import extra_buffers_ok, model_params_patch


def test_patch_turns_extra_buffers_off_only_while_active():
    low = llama_module.llama_cpp
    assert low.llama_model_default_params().use_extra_bufts is True
    with model_params_patch(False):
        assert low.llama_model_default_params().use_extra_bufts is False
    assert low.llama_model_default_params().use_extra_bufts is True
    with model_params_patch(True):
        assert low.llama_model_default_params().use_extra_bufts is True


def test_environment_override_and_cpus_without_amx(monkeypatch):
    monkeypatch.setenv("INTENTKG_LLAMA_EXTRA_BUFFERS", "0")
    assert extra_buffers_ok("/any.gguf") is False
    monkeypatch.setenv("INTENTKG_LLAMA_EXTRA_BUFFERS", "1")
    assert extra_buffers_ok("/any.gguf") is True
    monkeypatch.delenv("INTENTKG_LLAMA_EXTRA_BUFFERS")
    monkeypatch.setattr(llama_cpp_compat, "_cpu_flags", lambda: {"avx2", "fma"})
    assert extra_buffers_ok("/any.gguf") is True  # no AMX: nothing to probe
