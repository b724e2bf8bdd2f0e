"""The bundled GGUF models, loaded once per test session and shared by every test that needs one.

These are the single-stream backends (parallel=1); tests/llm/test_llama_cpp_batched.py covers batched decoding.
"""

from __future__ import annotations

from functools import lru_cache

FEWSHOT_HEAD = (
    'Question: A customer bought "tennis racket" and "tennis balls" together. What are they both used for?\n'
    "Answer: They are both used for\n1. playing tennis\n2. practicing serves\n\n"
)
QUESTIONS = [
    'Question: A customer searched for "camping stove" and bought "Propane Cylinder 16 oz". '
    "What are they both used for?\nAnswer: They are both used for\n1.",
    'Question: A customer bought "baby wipes" and "diapers" together. What are they both used for?\n'
    "Answer: They are both used for\n1.",
]


@lru_cache(maxsize=None)
def gemma():
    from intentkg.llm.llama_cpp import LlamaCppBackend

    backend = LlamaCppBackend(model="gemma3-270m", n_ctx=1024, parallel=1)
    backend.load()
    return backend


@lru_cache(maxsize=None)
def smollm2():
    from intentkg.llm.llama_cpp import LlamaCppBackend

    backend = LlamaCppBackend(model="smollm2-135m-instruct", n_ctx=1024, parallel=1)
    backend.load()
    return backend
