"""llama.cpp through llama-cpp-python: the embedded default backend (CPU, GGUF files).

``model`` is a bundled alias (``gemma3-270m``, ``smollm2-135m-instruct``), a local ``.gguf`` path,
or ``org/repo:file.gguf`` on the Hugging Face Hub (downloaded through huggingface_hub's cache; set
``HF_HUB_OFFLINE=1`` to use only what is already there).

Per-token log-probabilities come from a hook on the sampler: after each draw it reads the raw
next-token logits (before temperature, top-k/p) that llama.cpp still holds and takes the drawn
token's log-softmax. This avoids ``logits_all=True``, which would keep the whole context's logits
in memory and slow every prompt down, and leaves the sampler chain exactly as without log-probs.

``parallel`` (default 8) decodes that many sequences together (:mod:`intentkg.llm.llama_cpp_batched`),
on ``workers`` decoders of ``n_threads`` threads each (default: as many as fill the usable CPUs,
:mod:`intentkg.llm.llama_cpp_pool`); ``parallel=1`` is the single-stream path through llama-cpp-python's ``Llama``. The two draw different
(equally valid) answers, so batched answers carry ``decoding="batched"`` in their request-cache key;
within batched decoding an answer does not depend on its batch-mates, ``parallel`` or ``workers`` (the
pool shapes every decode step so that llama.cpp computes each row the same way:
:mod:`intentkg.llm.llama_cpp_step_plan`).
"""

from __future__ import annotations

import dataclasses
import math
import mmap
import os
import time
from pathlib import Path
from typing import Any, Sequence

from intentkg.errors import ConfigError
from intentkg.llm import bundled
from intentkg.llm.llama_cpp_batched import BatchedDecoder, ChatPrompts, Job, prompt_cuts
from intentkg.llm.llama_cpp_compat import extra_buffers_ok, model_params_patch
from intentkg.llm.llama_cpp_pool import DecoderPool
from intentkg.llm.model_files import file_hash
from intentkg.llm.protocol import Completion, ModelInfo, Request, Result, sample_seed
from intentkg.llm.registry import register

_HEADER_SCAN_BYTES = 64 << 20


def resolve_gguf(model: str) -> Path:
    """Local GGUF path for a bundled alias, a path, or ``org/repo:file.gguf``."""
    path = bundled.resolve(model)
    if path is not None:
        return path
    local = Path(model).expanduser()
    if local.is_file():
        return local
    if local.suffix == ".gguf" or local.exists():
        raise ConfigError(f"model {model!r}: no such GGUF file")
    if "/" in model and ":" in model:
        repo, _, filename = model.partition(":")
        try:
            from huggingface_hub import hf_hub_download

            return Path(hf_hub_download(repo_id=repo, filename=filename))
        except Exception as exc:  # offline, missing file, no such repo
            raise ConfigError(f"model {model!r}: cannot get {filename} from the Hugging Face Hub: {exc}") from exc
    raise ConfigError(f"model {model!r}: give a bundled model ({', '.join(bundled.ALIASES)}), a .gguf path, "
                      f"or org/repo:file.gguf")


def gguf_has_chat_template(path: Path) -> bool:
    """Whether the GGUF metadata holds a chat template (scans the header, does not load weights)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return False
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return mapped.find(b"tokenizer.chat_template", 0, min(size, _HEADER_SCAN_BYTES)) != -1


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def default_threads() -> int:
    """Half the usable CPUs (about the physical cores), at least 1.

    llama.cpp's OpenMP threads spin while they wait; with as many threads as busy vCPUs a shared
    machine slows down many times over. Set ``n_threads`` (or ``OMP_WAIT_POLICY=PASSIVE``) to change.
    """
    return max(1, usable_cpus() // 2)


def default_workers(n_threads: int) -> int:
    """Batched decoders of ``n_threads`` threads each that fill the usable CPUs (no barrier spans two),
    or the ``OMP_NUM_THREADS`` threads where that is set (Ray sets it to the CPUs an actor reserved)."""
    cpus = usable_cpus()
    omp = os.environ.get("OMP_NUM_THREADS", "")
    if omp.isdigit() and int(omp) > 0:
        cpus = min(cpus, int(omp))
    return max(1, cpus // max(1, n_threads))


class _TokenRecorder:
    """Collects (token, log-prob) pairs of one generation through a hook on the sampler."""

    def __init__(self) -> None:
        self.active = False
        self.tokens: list[int] = []
        self.logprobs: list[float] = []
        self._scratch = None  # reused buffer of vocabulary size

    def start(self) -> None:
        self.active, self.tokens, self.logprobs = True, [], []

    def record(self, llm, token: int, idx: int | None) -> None:
        """Log-prob of ``token`` under the raw next-token logits it was drawn from (still in llama.cpp)."""
        import numpy as np

        lp = float("nan")
        try:
            row = idx - llm.n_tokens if idx is not None else -1
            pointer = llm._ctx.get_logits_ith(row)
            if pointer:
                values = np.ctypeslib.as_array(pointer, shape=(llm.n_vocab(),))
                if self._scratch is None or self._scratch.shape != values.shape:
                    self._scratch = np.empty_like(values)
                peak = float(values.max())
                np.subtract(values, peak, out=self._scratch)
                lp = float(values[token]) - peak - math.log(float(np.exp(self._scratch, out=self._scratch).sum()))
        except Exception:  # a changed llama-cpp-python internal costs the log-probs, never the answer
            pass
        self.tokens.append(int(token))
        self.logprobs.append(lp)


@register("llama_cpp")
class LlamaCppBackend:
    name = "llama_cpp"
    preferred_batch_size = 1  # single stream: one request at a time, each finished call is cached at once

    def __init__(self, model: str = bundled.GEMMA, n_ctx: int = 2048, n_threads: int | None = None,
                 n_batch: int = 512, n_gpu_layers: int = 0, extra_buffers: str | bool = "auto",
                 chat: bool | None = None, verbose: bool = False, parallel: int = 8, workers: int | None = None):
        if not isinstance(parallel, int) or parallel < 1:
            raise ConfigError(f"llama_cpp option parallel={parallel!r}: give a whole number >= 1 (1: single stream)")
        if workers is not None and (not isinstance(workers, int) or workers < 1 or (parallel == 1 and workers > 1)):
            raise ConfigError(f"llama_cpp option workers={workers!r}: give a whole number >= 1 (more than 1 needs "
                              f"batched decoding, parallel > 1)")
        self.parallel = parallel
        self.n_threads = n_threads or default_threads()
        self.workers = 1 if parallel == 1 else workers or default_workers(self.n_threads)
        if parallel > 1:  # batches of 4 x parallel requests a worker: slots stay busy, a kill loses one batch at most
            self.preferred_batch_size = 4 * parallel * self.workers
        self.model = model
        self.path = resolve_gguf(model)
        self.n_ctx, self.n_batch, self.n_gpu_layers = n_ctx, n_batch, n_gpu_layers
        self.extra_buffers, self.verbose = extra_buffers, verbose
        self.chat = gguf_has_chat_template(self.path) if chat is None else bool(chat)
        self._llm = None
        self._pool: DecoderPool | None = None
        self._chat_prompts: ChatPrompts | None = None
        self._recorder = _TokenRecorder()
        self._part_tokens: dict[tuple[str, bool], list[int]] = {}
        self._info: ModelInfo | None = None

    def info(self) -> ModelInfo:
        if self._info is None:
            digest = file_hash(self.path)
            self._info = ModelInfo(backend=self.name, model_id=self.model, model_hash=digest, chat=self.chat,
                                   path=str(self.path), decoding="batched" if self.parallel > 1 else None)
        return self._info

    @property
    def llm(self):
        """The loaded ``llama_cpp.Llama`` (loaded on first use, so cached re-runs never load it)."""
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise ConfigError("the llama_cpp backend needs llama-cpp-python: pip install 'intentkg[llm]'") from exc
            use_extra = self.extra_buffers if isinstance(self.extra_buffers, bool) else extra_buffers_ok(self.path)
            with model_params_patch(use_extra):
                llm = Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                            n_threads_batch=self.n_threads, n_batch=self.n_batch,
                            n_gpu_layers=self.n_gpu_layers, verbose=self.verbose)
            original, recorder = llm.sample, self._recorder

            def sample(*args: Any, **kwargs: Any) -> int:
                token = original(*args, **kwargs)
                if recorder.active:
                    recorder.record(llm, token, kwargs.get("idx"))
                return token

            llm.sample = sample  # the generate loop calls self.sample: this sees every drawn token
            self._llm = llm
        return self._llm

    @property
    def pool(self) -> DecoderPool:
        """The batched decoders (``parallel > 1``), loaded on first use.

        Always without llama.cpp's extra (repacked) CPU buffers: their matrix kernels compute a
        sequence's numbers differently when 1-3 or 4+ sequences share a call, which would make an
        answer depend on its batch-mates. Batched decoding is compute-bound, so they gain little there.
        """
        if self._pool is None:
            try:
                import llama_cpp  # noqa: F401
            except ImportError as exc:
                raise ConfigError("the llama_cpp backend needs llama-cpp-python: pip install 'intentkg[llm]'") from exc
            self._pool = DecoderPool(str(self.path), self.workers, self.parallel, self.n_ctx, self.n_threads,
                                     self.n_batch, self.n_gpu_layers, use_extra_buffers=False, verbose=self.verbose)
        return self._pool

    @property
    def decode_slots(self) -> tuple[int, int, int] | None:
        """(sequences a batched decoder holds, ``parallel`` asked for, rows every decode step is padded to,
        0 for none) once loaded; None before or single stream (:mod:`intentkg.llm.llama_cpp_step_plan`)."""
        if self._pool is None:
            return None
        return self._pool.parallel, self._pool.requested_parallel, self._pool.min_rows

    @property
    def decoder(self) -> BatchedDecoder:
        """The first batched decoder: it tokenizes and renders chat prompts for all of them."""
        return self.pool.first

    def load(self) -> None:
        """Load the weights now (otherwise the first ``generate`` does)."""
        if self.parallel > 1:
            self.pool
        else:
            self.llm

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        if self.parallel > 1:
            return self._generate_batched(requests)
        return [self._one(request) for request in requests]

    def _generate_batched(self, requests: Sequence[Request]) -> list[Result]:
        """All samples of all requests through the batched decoder; each request's time is its share."""
        started = time.perf_counter()
        decoder, jobs, owners, errors = self.decoder, [], [], {}
        for r, request in enumerate(requests):
            try:
                parts, params = self._job_prompt(decoder, request)
            except (ValueError, RuntimeError) as exc:
                errors[r] = f"{type(exc).__name__}: {exc}"
                continue
            for i in range(request.params.n):
                jobs.append(Job(parts, params, sample_seed(request.key, i)))
                owners.append(r)
        outcomes = self.pool.run(jobs)
        share = (time.perf_counter() - started) / max(1, len(requests))
        completions: list[list] = [[] for _ in requests]
        for r, outcome in zip(owners, outcomes):
            if isinstance(outcome, Exception):
                errors.setdefault(r, f"{type(outcome).__name__}: {outcome}")
            else:
                completions[r].append(outcome)
        return [Result(q.key, error=errors[r], seconds=share) if r in errors else
                Result(q.key, completions[r], seconds=share) for r, q in enumerate(requests)]

    def _job_prompt(self, decoder: BatchedDecoder, request: Request) -> tuple[list[list[int]], object]:
        """A request's prompt as token parts (cut as the single-stream path cuts it) and its parameters."""
        if request.messages is not None:
            if self._chat_prompts is None:
                self._chat_prompts = ChatPrompts(decoder)
            prompt, stop, added_bos = self._chat_prompts.render(request.messages)
            params = dataclasses.replace(request.params, stop=tuple(request.params.stop) + tuple(stop))
            return [decoder.tokenize(prompt, add_bos=not added_bos)], params
        prompt = request.prompt
        bounds = [0, *prompt_cuts(prompt, request.prefix_splits), len(prompt)]
        parts = [self._tokens(decoder, prompt[a:b], first=(a == 0)) for a, b in zip(bounds, bounds[1:])]
        return parts, request.params

    def _one(self, request: Request) -> Result:
        started = time.perf_counter()
        llm = self.llm
        completions = []
        try:
            for i in range(request.params.n):
                completions.append(self._sample(llm, request, sample_seed(request.key, i)))
        except (ValueError, RuntimeError) as exc:  # prompt longer than n_ctx, decode failure
            return Result(request.key, error=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - started)
        return Result(request.key, completions, seconds=time.perf_counter() - started)

    def _kwargs(self, request: Request, seed: int) -> dict[str, Any]:
        p = request.params
        kwargs: dict[str, Any] = dict(max_tokens=p.max_tokens, temperature=p.temperature, top_p=p.top_p,
                                      seed=seed, stop=list(p.stop))
        for name in ("top_k", "min_p", "repeat_penalty"):
            if getattr(p, name) is not None:
                kwargs[name] = getattr(p, name)
        return kwargs

    def _sample(self, llm, request: Request, seed: int) -> Completion:
        kwargs = self._kwargs(request, seed)
        recorder = self._recorder
        recorder.start()
        recorder.active = request.params.logprobs
        try:
            if request.messages is not None:
                llm.reset()  # evaluate the whole prompt in one batch: the same numbers every time
                out = llm.create_chat_completion(messages=[dict(m) for m in request.messages], **kwargs)
                choice = out["choices"][0]
                text = choice["message"].get("content") or ""
            else:
                out = llm.create_completion(self._prepare(llm, request.prompt, request.prefix_splits), **kwargs)
                choice = out["choices"][0]
                text = choice.get("text") or ""
        finally:
            recorder.active = False
        usage = out.get("usage") or {}
        completion = Completion(text=text, finish_reason=choice.get("finish_reason"),
                                prompt_tokens=usage.get("prompt_tokens"),
                                completion_tokens=usage.get("completion_tokens"))
        if request.params.logprobs and recorder.tokens:
            completion.token_logprobs, completion.token_offsets = self._align(llm, recorder, text)
        return completion

    def _prepare(self, llm, prompt: str, splits: tuple[int, ...]) -> list[int] | str:
        """Prompt tokens, with the KV cache holding the prompt's leading shared parts (or nothing).

        llama.cpp's logits differ in the last bits with how a prompt is cut into batches, and a
        sampled answer can follow them. So a prompt is always evaluated in the same parts: cut at
        the request's ``prefix_splits`` (the template's few-shot block, then the text shared by
        behaviours of one kind), else after its last blank line. Leading parts already in the KV
        cache are kept, every other part is one batch. The answer then depends on the request
        only, never on what ran before it, and consecutive prompts still share their prefix.
        """
        cuts = prompt_cuts(prompt, splits)
        if not cuts:
            llm.reset()
            return prompt
        bounds = [0, *cuts]
        parts = [self._tokens(llm, prompt[a:b], first=(a == 0)) for a, b in zip(bounds, bounds[1:])]
        kept = position = 0
        for part in parts:
            end = position + len(part)
            if llm.n_tokens < end or llm.input_ids[position:end].tolist() != part:
                break
            kept, position = kept + 1, end
        if kept:
            llm.n_tokens = position  # keep the shared parts, drop whatever followed them
        else:
            llm.reset()
        for part in parts[kept:]:
            llm.eval(part)
        rest = llm.tokenize(prompt[cuts[-1]:].encode("utf-8"), add_bos=False, special=True)
        return [t for part in parts for t in part] + rest

    def _tokens(self, llm, text: str, first: bool) -> list[int]:
        key = (text, first)
        if key not in self._part_tokens:
            if len(self._part_tokens) > 256:
                self._part_tokens.clear()
            if isinstance(llm, BatchedDecoder):
                self._part_tokens[key] = llm.tokenize(text, add_bos=first)
            else:
                self._part_tokens[key] = llm.tokenize(text.encode("utf-8"), add_bos=first, special=True)
        return self._part_tokens[key]

    @staticmethod
    def _align(llm, recorder: _TokenRecorder, text: str) -> tuple[list[float], list[int]]:
        """Token log-probs and their start offsets in ``text`` (tokens past the text are dropped)."""
        logprobs, offsets = [], []
        for k in range(len(recorder.tokens)):
            start = len(llm.detokenize(recorder.tokens[:k]).decode("utf-8", errors="ignore")) if k else 0
            if start >= len(text):
                break
            offsets.append(min(start, len(text)))
            logprobs.append(recorder.logprobs[k])
        return logprobs, offsets

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._llm is not None:
            try:
                self._llm.close()
            except Exception:
                pass
            self._llm = None
