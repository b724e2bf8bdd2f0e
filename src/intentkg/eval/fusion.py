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
whether each side has knowledge; with ``vectors`` also the two knowledge embeddings; with ``facts``
(:func:`fact_block`) the query against each product fact on its own, not their mean: the best and
the mean cosine of the query with one of the product's facts and of the title with one of the
query's facts, beside the plain cosine of query and title in every setting (so the head can tell
"the query names what this product is used with" from "the query names this product"). "without" gets
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
                    product_knowledge: Sequence[str], vectors: bool = False, facts: bool = False) -> np.ndarray:
    """Per pair: ``[cos(qk, pk), cos(q, pk), cos(qk, p), has qk, has pk]`` (+ ``qk, pk`` with ``vectors``,
    + :func:`fact_block` with ``facts``); a cosine with an empty side is 0."""
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
    if facts:
        parts.append(fact_block(embed, q, p, query_knowledge, product_knowledge))
    return np.hstack(parts).astype(np.float32)


def _facts(text: str) -> list[str]:
    """A side's facts, one text each (``product: used with a canvas, used with brushes`` -> ``a canvas``, ``brushes``)."""
    return [part for part in bare(text).split(", ") if part] if text else []


def _best_and_mean(embed: Embed, anchors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """Per row: the best and the mean cosine of ``anchors[i]`` with one of row i's facts (0, 0 without facts)."""
    facts = [_facts(t) for t in texts]
    unique = sorted({f for row in facts for f in row})
    out = np.zeros((len(texts), 2), dtype=np.float32)
    if not unique:
        return out
    vectors = np.asarray(embed(unique), dtype=np.float32)
    index = {f: i for i, f in enumerate(unique)}
    for i, row in enumerate(facts):
        if row:
            sims = vectors[[index[f] for f in row]] @ anchors[i]
            out[i] = (sims.max(), sims.mean())
    return out


def fact_block(embed: Embed, q: np.ndarray, p: np.ndarray, query_knowledge: Sequence[str],
               product_knowledge: Sequence[str]) -> np.ndarray:
    """Per pair: ``[max cos(q, product fact), mean cos(q, product fact), max cos(p, query fact), mean
    cos(p, query fact)]``, each fact embedded once; ``q``, ``p`` are the query's and title's unit vectors."""
    return np.hstack([_best_and_mean(embed, q, product_knowledge), _best_and_mean(embed, p, query_knowledge)])


def anchor(embed: Embed, queries: Sequence[str], products: Sequence[str]) -> np.ndarray:
    """The cosine of query and title (knowledge-free, so every setting gets it: ``facts`` needs it to relate
    a fact's match to the title's)."""
    dim = np.asarray(embed([queries[0] if queries else "x"]), dtype=np.float32).shape[1]
    return (_embed_or_zero(embed, queries, dim) * _embed_or_zero(embed, products, dim)).sum(1, keepdims=True)


def fusion_features(pair_features: np.ndarray, block: np.ndarray | None) -> np.ndarray:
    """The pair's knowledge-free features with a knowledge block (``None``: "without", zeros)."""
    return np.hstack([pair_features, block]) if block is not None else pair_features


def fusion_settings(embed: Embed, pair_features: np.ndarray, queries: Sequence[str], products: Sequence[str],
                    knowledge_by_setting: dict, vectors: bool = False, facts: bool = False) -> dict[str, np.ndarray]:
    """``{setting: features}`` for "without" and each of ``knowledge_by_setting`` (a name -> object with
    ``query_text`` / ``product_text``: "with", "shuffled", "filler"); with ``facts`` every setting's pair
    features also get the query-title cosine (:func:`anchor`)."""
    if facts:
        pair_features = np.hstack([pair_features, anchor(embed, queries, products)])
    blocks = {name: knowledge_block(embed, queries, products, k.query_text, k.product_text, vectors, facts)
              for name, k in knowledge_by_setting.items()}
    width = next(iter(blocks.values())).shape[1] if blocks else 0
    out = {"without": fusion_features(pair_features, np.zeros((len(queries), width), dtype=np.float32))}
    out.update({name: fusion_features(pair_features, b) for name, b in blocks.items()})
    return out
