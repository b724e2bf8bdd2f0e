"""Finding llama.cpp's converter: a given path first, then $INTENTKG_CONVERT_SCRIPT, then the cache;
extracting it from an sdist takes only the converter's files and nothing outside the target."""

from __future__ import annotations

import io
import tarfile

import pytest

from intentkg.distill import convert_script as cs
from intentkg.errors import ConfigError


def _sdist(path, extra: dict[str, bytes] | None = None):
    files = {"llama_cpp_python-9.9.9/vendor/llama.cpp/convert_hf_to_gguf.py": b"print('convert')\n",
             "llama_cpp_python-9.9.9/vendor/llama.cpp/conversion/__init__.py": b"",
             "llama_cpp_python-9.9.9/vendor/llama.cpp/gguf-py/gguf/__init__.py": b"",
             "llama_cpp_python-9.9.9/vendor/llama.cpp/ggml/src/ggml.c": b"int x;\n",
             "llama_cpp_python-9.9.9/llama_cpp/__init__.py": b"", **(extra or {})}
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_only_the_converter_files_are_extracted(tmp_path):
    script = cs.extract_from_sdist(_sdist(tmp_path / "s.tar.gz"), tmp_path / "cache" / "9.9.9")
    assert script == tmp_path / "cache" / "9.9.9" / "convert_hf_to_gguf.py"
    found = sorted(str(p.relative_to(script.parent)) for p in script.parent.rglob("*") if p.is_file())
    assert found == ["conversion/__init__.py", "convert_hf_to_gguf.py", "gguf-py/gguf/__init__.py"]


def test_an_sdist_without_the_converter_is_refused(tmp_path):
    with tarfile.open(tmp_path / "empty.tar.gz", "w:gz"):
        pass
    with pytest.raises(ConfigError, match="convert_hf_to_gguf.py.*--convert-script"):
        cs.extract_from_sdist(tmp_path / "empty.tar.gz", tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_a_given_path_wins_and_a_wrong_one_says_what_to_give(tmp_path, monkeypatch):
    mine = tmp_path / "llama.cpp" / "convert_hf_to_gguf.py"
    mine.parent.mkdir()
    mine.write_text("")
    monkeypatch.setenv(cs.ENV, str(tmp_path / "elsewhere.py"))
    assert cs.find_convert_script(mine) == mine.resolve()
    assert cs.find_convert_script(mine.parent) == mine.resolve()  # the checkout folder is enough
    with pytest.raises(ConfigError, match=r"\$INTENTKG_CONVERT_SCRIPT .*elsewhere.py: no such file"):
        cs.find_convert_script()
    monkeypatch.setenv(cs.ENV, str(mine))
    assert cs.find_convert_script() == mine.resolve()


def test_without_cache_or_fetch_the_error_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv(cs.ENV, raising=False)
    monkeypatch.setenv("INTENTKG_CACHE_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="pip download llama-cpp-python==.* --no-binary :all:"):
        cs.find_convert_script(fetch=False)
