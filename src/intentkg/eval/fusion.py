"""The ``fusion`` encoder: knowledge encoded on its own, beside the pair's cross-encoder features.

The ``cross`` encoder reads ``query [SEP] product [SEP] knowledge`` as one text, so every pair is
encoded once per setting and control: four cross-encoder passes over every pair (without, with,
shuffled, filler), ~0.04 CPU-s each with MiniLM. Knowledge texts repeat (a query's knowledge is the
same for all its products, a product type's for all its members: on esci-dev 6,112 pairs have
~280 distinct query-side and ~320 product-side texts), so ``fusion`` encodes

- the pair once with the cross-encoder *without* knowledge (the "without" features, shared with
  ``cross`` through the embedding cache), and
- each distinct knowledge text once with the bi-encoder (sentence embeddings, unit vectors),

and appends a small block to the pair's features (:func:`knowledge_block`): the cosines
query-knowledge · product-knowledge, query · product-knowledge and query-knowledge · product
(the query's intended kind of product against the product's kind, COSMO's strongest signal), and
whether each side has knowledge; with ``vectors`` also the two knowledge embeddings. "without" gets
the same block of zeros (the same features as ``cross`` without knowledge, plus constant columns). The shuffled control
permutes the knowledge texts (no new encoding); the filler control's texts have few distinct
lengths. Same head, same pairs: only the knowledge differs between the settings.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

Embed = Callable[[list[str]], np.ndarray]


@lru_cache(maxsize=1)
def _phrases() -> tuple[str, ...]:
    """The packaged relations' phrases as the knowledge template writes them, longest first."""
    from intentkg.generate.relations import load_schema
    from intentkg.knowledge.text import relation_phrase

    return tuple(sorted({relation_phrase(r) for r in load_schema().relations}, key=len, reverse=True))


def bare(text: str) -> str:
    """A side's knowledge text without its label and relation phrases (``query intent: is a running
    shoes, used for function running`` -> ``running shoes, running``): what the facts say, so that
    the same kind named on both sides embeds alike. Filler and empty texts pass unchanged."""
    from intentkg.knowledge.text import PRODUCT_LABEL, QUERY_LABEL

    for label in (QUERY_LABEL, PRODUCT_LABEL):
        if text.startswith(f"{label}: "):
            text = text[len(label) + 2:]
            break
    else:
        return text
    parts = []
    for part in text.split(", "):
        for phrase in _phrases():
            if part.startswith(phrase + " "):
                part = part[len(phrase) + 1:]
                break
        parts.append(part)
    return ", ".join(parts)


def _embed_or_zero(embed: Embed, texts: Sequence[str], dim: int) -> np.ndarray:
    """Unit vectors for ``texts`` (each distinct text encoded once); zeros where a text is empty."""
    unique = sorted({t for t in texts if t})
    out = np.zeros((len(texts), dim), dtype=np.float32)
    if unique:
        vectors = np.asarray(embed(unique), dtype=np.float32)
        row = {t: i for i, t in enumerate(unique)}
        for i, t in enumerate(texts):
            if t:
                out[i] = vectors[row[t]]
    return out


def knowledge_block(embed: Embed, queries: Sequence[str], products: Sequence[str], query_knowledge: Sequence[str],
                    product_knowledge: Sequence[str], vectors: bool = False) -> np.ndarray:
    """Per pair: ``[cos(qk, pk), cos(q, pk), cos(qk, p), has qk, has pk]`` (+ ``qk, pk`` with ``vectors``);
    a cosine with an empty side is 0."""
    probe = np.asarray(embed([queries[0] if queries else "x"]), dtype=np.float32)
    dim = probe.shape[1]
    q = _embed_or_zero(embed, queries, dim)
    p = _embed_or_zero(embed, products, dim)
    qk = _embed_or_zero(embed, [bare(t) for t in query_knowledge], dim)
    pk = _embed_or_zero(embed, [bare(t) for t in product_knowledge], dim)
    has_qk = np.array([bool(t) for t in query_knowledge], dtype=np.float32)[:, None]
    has_pk = np.array([bool(t) for t in product_knowledge], dtype=np.float32)[:, None]
    sims = np.stack([(qk * pk).sum(1), (q * pk).sum(1), (qk * p).sum(1)], axis=1)
    parts = [sims, has_qk, has_pk] + ([qk, pk] if vectors else [])
    return np.hstack(parts).astype(np.float32)


def fusion_features(pair_features: np.ndarray, block: np.ndarray | None) -> np.ndarray:
    """The pair's knowledge-free features with a knowledge block (``None``: "without", zeros)."""
    return np.hstack([pair_features, block]) if block is not None else pair_features


def fusion_settings(embed: Embed, pair_features: np.ndarray, queries: Sequence[str], products: Sequence[str],
                    knowledge_by_setting: dict, vectors: bool = False) -> dict[str, np.ndarray]:
    """``{setting: features}`` for "without" and each of ``knowledge_by_setting`` (a name -> object with
    ``query_text`` / ``product_text``: "with", "shuffled", "filler")."""
    blocks = {name: knowledge_block(embed, queries, products, k.query_text, k.product_text, vectors)
              for name, k in knowledge_by_setting.items()}
    width = next(iter(blocks.values())).shape[1] if blocks else 0
    out = {"without": fusion_features(pair_features, np.zeros((len(queries), width), dtype=np.float32))}
    out.update({name: fusion_features(pair_features, b) for name, b in blocks.items()})
    return out
