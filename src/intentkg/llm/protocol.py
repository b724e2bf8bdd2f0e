"""The one small contract every LLM backend implements, and the plain data it exchanges.

A backend turns a batch of :class:`Request` into one :class:`Result` each, in the same order::

    class MyBackend:
        name = "my_backend"
        def info(self) -> ModelInfo: ...                       # id, file hash, chat or plain text
        def generate(self, requests: Sequence[Request]) -> list[Result]: ...
        def close(self) -> None: ...
        def load(self) -> None: ...                            # optional: load weights up front

A request is either a plain-text ``prompt`` (base models, completed as is) or chat ``messages``
(instruct models; the backend applies the model's chat template). Each request asks for
``params.n`` samples; sample ``i`` is drawn with :func:`sample_seed` so that a sample's output
never depends on which other requests share its batch or on whether a run was resumed.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Sequence, runtime_checkable


@dataclass(frozen=True)
class SamplingParams:
    """Decoding parameters; ``None`` means "the backend's default"."""

    temperature: float = 0.8
    top_p: float = 0.95
    top_k: int | None = None
    min_p: float | None = None
    repeat_penalty: float | None = None
    max_tokens: int = 48
    n: int = 1
    seed: int = 0
    stop: tuple[str, ...] = ()
    logprobs: bool = True  # keep the log-probability of each generated token when the backend can

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stop"] = list(self.stop)
        return data


@dataclass(frozen=True)
class Request:
    """One prompt to complete ``params.n`` times. ``key`` is its request-cache key."""

    key: str
    params: SamplingParams
    prompt: str | None = None
    messages: tuple[dict[str, str], ...] | None = None
    # Where a plain prompt may be cut into parts shared with other requests (character offsets,
    # e.g. after the few-shot examples). A hint for backends with a KV cache; not part of the key.
    prefix_splits: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("a Request needs exactly one of prompt or messages")


@dataclass
class Completion:
    """One sampled answer. ``token_offsets[i]`` is where token i starts in ``text``."""

    text: str
    finish_reason: str | None = None  # stop | length | None when the backend does not say
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    token_logprobs: list[float] | None = None
    token_offsets: list[int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Completion":
        known = {f: data.get(f) for f in cls.__dataclass_fields__}
        known["text"] = known["text"] or ""
        return cls(**known)


@dataclass
class Result:
    """All samples for one request, or the error that stopped it (errors are never cached)."""

    key: str
    completions: list[Completion] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class ModelInfo:
    """What a backend serves. ``model_hash`` goes into every request-cache key."""

    backend: str
    model_id: str  # a Hugging Face name, a local path or a bundled alias
    model_hash: str  # sha256 of the model file(s), or a user-given tag for remote servers
    chat: bool  # True when the model has a chat template (instruct model)
    path: str | None = None  # local file or folder the weights came from
    # How answers are drawn, when that changes them (e.g. "batched" for llama.cpp's batched decoder);
    # part of the request-cache key when set. None: the backend's only way.
    decoding: str | None = None


@runtime_checkable
class Backend(Protocol):
    name: str
    preferred_batch_size: int

    def info(self) -> ModelInfo: ...

    def generate(self, requests: Sequence[Request]) -> list[Result]: ...

    def close(self) -> None: ...


def sample_seed(request_key: str, sample: int) -> int:
    """A 31-bit seed for sample ``sample`` of a request, fixed by the request alone."""
    digest = hashlib.sha256(f"{request_key}:{sample}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def offsets_from_pieces(pieces: Sequence[str], text_length: int) -> list[int]:
    """Start offsets of consecutive token strings, clipped to the text they produced."""
    offsets, position = [], 0
    for piece in pieces:
        offsets.append(min(position, text_length))
        position += len(piece or "")
    return offsets


def span_logprob(completion: Completion, start: int, end: int) -> tuple[float | None, int | None]:
    """Mean log-probability and count of the tokens overlapping ``text[start:end]``."""
    lps, offs = completion.token_logprobs, completion.token_offsets
    if not lps or not offs or len(lps) != len(offs) or end <= start:
        return None, None
    chosen = []
    for i, (lp, begin) in enumerate(zip(lps, offs)):
        finish = offs[i + 1] if i + 1 < len(offs) else len(completion.text)
        if lp is not None and math.isfinite(lp) and begin < end and max(finish, begin + 1) > start:
            chosen.append(lp)
    if not chosen:
        return None, None
    return sum(chosen) / len(chosen), len(chosen)
