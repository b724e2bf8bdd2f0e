"""What the Hugging Face-folder backends (transformers, vLLM) share: the tokenizer, loaded lazily
and never with remote code, and a ModelInfo whose hash covers the weights and configs."""

from __future__ import annotations

from intentkg.llm.model_files import path_hash
from intentkg.llm.protocol import ModelInfo
from intentkg.model_folder import FOLDER_FILES, resolve


class HFFolderModel:
    """Mixin: the subclass sets ``name``, ``model``, ``path``, ``_chat``, ``_tokenizer = None``, ``_info = None``."""

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = resolve(self.path, what="model").tokenizer()
        return self._tokenizer

    def info(self) -> ModelInfo:
        if self._info is None:
            chat = self._chat if self._chat is not None else bool(getattr(self.tokenizer, "chat_template", None))
            self._info = ModelInfo(backend=self.name, model_id=self.model,
                                   model_hash=path_hash(self.path, FOLDER_FILES), chat=chat, path=str(self.path))
        return self._info
