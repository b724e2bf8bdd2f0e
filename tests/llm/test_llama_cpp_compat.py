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
    assert extra_buffers_ok("/any.gguf") is True  # no AMX: the repacked layouts are safe
    monkeypatch.setattr(llama_cpp_compat, "_cpu_flags", lambda: {"avx2", "amx_tile", "amx_int8"})
    assert extra_buffers_ok("/any.gguf") is False  # AMX reported: off, whatever a quick try would say
    monkeypatch.setenv("INTENTKG_LLAMA_EXTRA_BUFFERS", "1")
    assert extra_buffers_ok("/any.gguf") is True


def test_bundled_model_decodes_a_prompt_with_the_default_setting():
    """On the VM where the old probe passed, this crashed the process (SIGSEGV) with extra buffers on."""
    import subprocess
    import sys

    from intentkg.llm.bundled import gemma_path

    code = ("import sys; from intentkg.llm.llama_cpp_compat import extra_buffers_ok, model_params_patch\n"
            "from llama_cpp import Llama\n"
            "with model_params_patch(extra_buffers_ok(sys.argv[1])):\n"
            "    llm = Llama(model_path=sys.argv[1], n_ctx=128, n_threads=1, verbose=False)\n"
            "print(llm.create_completion('A tent is used for', max_tokens=4, temperature=0.0)['choices'][0]['text'])")
    proc = subprocess.run([sys.executable, "-c", code, str(gemma_path())], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip()  # it wrote an answer
