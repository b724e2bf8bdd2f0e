"""What the Hugging Face-folder backends (transformers, vLLM) share: the tokenizer, loaded lazily
and never with remote code, and a ModelInfo whose hash covers the weights and configs."""

from __future__ import annotations

from intentkg.llm.model_files import path_hash
from intentkg.llm.protocol import ModelInfo

WEIGHT_PATTERNS = ("*.safetensors", "*.json", "*.model", "*.txt", "*.jinja")


class HFFolderModel:
    """Mixin: the subclass sets ``name``, ``model``, ``path``, ``_chat``, ``_tokenizer = None``, ``_info = None``."""

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), trust_remote_code=False)
        return self._tokenizer

    def info(self) -> ModelInfo:
        if self._info is None:
            chat = self._chat if self._chat is not None else bool(getattr(self.tokenizer, "chat_template", None))
            self._info = ModelInfo(backend=self.name, model_id=self.model,
                                   model_hash=path_hash(self.path, WEIGHT_PATTERNS), chat=chat, path=str(self.path))
        return self._info
