"""A trained LoRA adapter → a deployable model: the adapter merged into its base and saved as
safetensors (+ tokenizer), then written as GGUF with llama.cpp's own ``convert_hf_to_gguf.py`` (found
by :mod:`intentkg.distill.convert_script`) so that the llama.cpp backend serves it::

    merged = merge_adapter(base_model, adapter_dir)         # a plain transformers model
    save_merged(merged, tokenizer, ws / "distill" / "merged")
    write_gguf(ws / "distill" / "merged", ws / "distill" / "student.gguf")

``outtype`` is the converter's (``f32``, ``f16``, ``bf16``, ``q8_0``, ``auto``); ``f16`` halves the
file and keeps greedy answers of a small model equal to the merged model's in our tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from intentkg import atomic_file
from intentkg.distill.convert_script import find_convert_script
from intentkg.errors import ConfigError

OUTTYPES = ("f32", "f16", "bf16", "q8_0", "auto")
CONVERT_TIMEOUT_S = 3600


def merge_adapter(model: Any, adapter: str | Path | None = None) -> Any:
    """``model`` with its LoRA weights folded in: a peft model, or a base plus an adapter folder."""
    from peft import PeftModel

    if adapter is not None:
        if not (Path(adapter) / "adapter_config.json").is_file():
            raise ConfigError(f"adapter {adapter}: no adapter_config.json; give the folder `distill train` wrote")
        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=False)
    if not isinstance(model, PeftModel):
        raise ConfigError("merge_adapter needs a peft model or an adapter folder")
    return model.merge_and_unload()


def save_merged(model: Any, tokenizer: Any, folder: str | Path) -> Path:
    """Save a merged model (safetensors only) and its tokenizer into ``folder``, replacing it whole."""
    folder = Path(folder)
    with atomic_file.replacing_folder(folder) as staging:
        model.save_pretrained(str(staging), safe_serialization=True)
        tokenizer.save_pretrained(str(staging))
    return folder


def write_gguf(hf_folder: str | Path, out: str | Path, outtype: str = "f16",
               convert_script: str | Path | None = None) -> Path:
    """Write ``out`` (GGUF) from a safetensors model folder with llama.cpp's converter, in a subprocess."""
    if outtype not in OUTTYPES:
        raise ConfigError(f"GGUF type {outtype!r}: choose one of {', '.join(OUTTYPES)}")
    hf_folder, out = Path(hf_folder), Path(out)
    if not (hf_folder / "config.json").is_file():
        raise ConfigError(f"{hf_folder}: no config.json; save the merged model there first")
    script = find_convert_script(convert_script)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file.replacing(out) as tmp:
        command = [sys.executable, str(script), str(hf_folder), "--outfile", str(tmp), "--outtype", outtype]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # the converter reads the folder, never the Hub
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S, env=env)
        except subprocess.TimeoutExpired as exc:
            raise ConfigError(f"{script} ran past {CONVERT_TIMEOUT_S} s converting {hf_folder}") from exc
        if done.returncode != 0 or not Path(tmp).is_file():
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-4:])
            raise ConfigError(f"llama.cpp's converter ({script}) failed on {hf_folder}: {tail}")
    return out
