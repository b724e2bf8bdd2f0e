"""The probability that a model answers "yes", from its next-token log-probs (llama.cpp, GGUF).

    scorer = YesNoScorer("ws/distill/student.gguf")
    p = scorer.probabilities([[{"role": "user", "content": "Is ... plausible? Answer yes or no."}]])

The chat messages are rendered with the GGUF's own chat template (plain prompts for a model without
one), the prompt is evaluated once, and P(yes) = the probability mass of the answer's first token
being a "yes" token against a "no" token (``yes``/``Yes``, with and without a leading space) -
renormalised over the two, so a model that would rather say something else still gets a score.
Consecutive prompts that share a beginning (the instruction) reuse it from the KV cache.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np

from intentkg.errors import ConfigError

YES = ("yes", "Yes")
NO = ("no", "No")


class YesNoScorer:
    def __init__(self, model: str | Path, n_ctx: int = 1024, n_threads: int | None = None, yes: Sequence[str] = YES,
                 no: Sequence[str] = NO):
        from intentkg.llm.llama_cpp import LlamaCppBackend

        # the single-stream backend's loader (its CPU-buffer settings), its model used for prompts only
        self.backend = LlamaCppBackend(model=str(model), n_ctx=n_ctx, n_threads=n_threads, parallel=1)
        self.path, self.n_ctx = self.backend.path, n_ctx
        self._yes_words, self._no_words = tuple(yes), tuple(no)
        self._llm = None
        self._formatter = None

    @property
    def llm(self):
        if self._llm is None:
            self._llm = self.backend.llm
            self.yes_ids, self.no_ids = self._answer_tokens(self._yes_words), self._answer_tokens(self._no_words)
            if set(self.yes_ids) & set(self.no_ids):
                raise ConfigError(f"{self.path}: its tokenizer starts 'yes' and 'no' with the same token; "
                                  f"the yes/no critic cannot tell them apart")
        return self._llm

    def _answer_tokens(self, words: Sequence[str]) -> list[int]:
        """The first token of each spelling, with and without a leading space."""
        found = []
        for word in words:
            for text in (word, " " + word):
                tokens = self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
                if tokens and tokens[0] not in found:
                    found.append(tokens[0])
        return found

    def render(self, messages: Sequence[dict[str, str]]) -> list[int]:
        """Prompt tokens: the chat template with the assistant's turn opened, or the plain text."""
        llm = self.llm
        template = llm.metadata.get("tokenizer.chat_template")
        if template:
            if self._formatter is None:
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                text = lambda t: llm.detokenize([t], special=True).decode("utf-8", errors="ignore") if t >= 0 else ""
                self._formatter = Jinja2ChatFormatter(template=template, eos_token=text(llm.token_eos()),
                                                      bos_token=text(llm.token_bos()), add_generation_prompt=True)
            result = self._formatter(messages=[dict(m) for m in messages])
            return llm.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)
        prompt = "\n\n".join(m["content"] for m in messages) + "\nAnswer:"
        return llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)

    def probability(self, messages: Sequence[dict[str, str]]) -> float:
        llm = self.llm
        tokens = self.render(messages)
        if len(tokens) >= self.n_ctx:
            raise ConfigError(f"a yes/no prompt of {len(tokens)} tokens does not fit the context ({self.n_ctx}); "
                              f"raise n_ctx")
        keep = 0
        limit = min(llm.n_tokens, len(tokens) - 1)  # the last token is always evaluated: its logits are the answer
        while keep < limit and llm.input_ids[keep] == tokens[keep]:
            keep += 1
        llm.n_tokens = keep
        llm.eval(tokens[keep:])
        pointer = llm._ctx.get_logits_ith(-1)
        logits = np.ctypeslib.as_array(pointer, shape=(llm.n_vocab(),)).astype(np.float64)
        peak = float(logits.max())
        log_z = peak + math.log(float(np.exp(logits - peak).sum()))
        yes = _logsumexp(logits[self.yes_ids]) - log_z
        no = _logsumexp(logits[self.no_ids]) - log_z
        return float(1.0 / (1.0 + math.exp(no - yes)))

    def probabilities(self, prompts: Sequence[Sequence[dict[str, str]]]) -> np.ndarray:
        return np.array([self.probability(m) for m in prompts], dtype=np.float64)

    def close(self) -> None:
        self.backend.close()
        self._llm = None


def _logsumexp(values: np.ndarray) -> float:
    peak = float(values.max())
    return peak + math.log(float(np.exp(values - peak).sum()))
