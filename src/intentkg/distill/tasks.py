"""The student's five tasks (COSMO-LM) and the phrasings each is asked in.

COSMO varied its instruction templates for robustness; here every task has three phrasings, and
each task instance is asked in one of them, picked by a seeded hash of the instance (so a rebuild
asks the same instance the same way, and the phrasings share the data about equally).

- ``generation``: behaviour + relation -> a numbered list of the knowledge that passed the filter.
  Phrasing ``qa_chat`` is exactly the prompt ``intentkg generate`` sends a chat model (the packaged
  ``qa_chat`` template, its default worked answers included), so the student answers ``generate``
  as it was trained; the other two are short instructions without worked answers.
- ``plausibility`` / ``typicality``: behaviour + relation + tail -> ``yes`` / ``no``, in the phrasings of
  :mod:`intentkg.critic.yes_no_prompt` (their one home: the student critic asks phrasing 0).
- ``search_relevance``: (query, product title) -> ``yes`` / ``no``.
- ``co_purchase``: (product title, product title) -> ``yes`` / ``no``.

A prompt is a list of chat messages (``{"role", "content"}``); the answer is one assistant turn.
"""

from __future__ import annotations

import hashlib

from intentkg.critic import yes_no_prompt
from intentkg.critic.yes_no_prompt import (QA_CHAT, YES_NO, Phrasing, behavior_text, judgement_messages, messages,
                                           qa_chat_template)
from intentkg.generate.prompts import clean_text
from intentkg.generate.relations import Relation, prompt_fields

TASKS = ("generation", "plausibility", "typicality", "search_relevance", "co_purchase")
YES, NO = yes_no_prompt.ANSWERS

PHRASINGS: dict[str, tuple[Phrasing, ...]] = {
    # fields: behavior, relation, description, question, cue
    "generation": (
        Phrasing(QA_CHAT, ""),  # rendered by the packaged qa_chat template, see render_generation
        Phrasing("gen_relation", "{behavior}\nRelation: {relation} ({description})\n"
                                 "List up to three short phrases that complete: \"{cue} ...\""),
        Phrasing("gen_question", "Why did this happen? {behavior}\n{question} Answer with a numbered list of "
                                 "short phrases.",
                 system="You explain shopping behaviour with commonsense knowledge."),
    ),
    **yes_no_prompt.PHRASINGS,  # fields: behavior, relation, cue, tail
    # fields: query, product
    "search_relevance": (
        Phrasing("rel_plain", "Query: {query}\nProduct: {product}\nIs the product relevant to the query? " + YES_NO),
        Phrasing("rel_shopper", "A shopper searched for \"{query}\". Would \"{product}\" be a good result? " + YES_NO),
        Phrasing("rel_match", "Does this product match the search?\nSearch: {query}\nProduct title: {product}\n"
                              + YES_NO, system="You judge search results of an online shop."),
    ),
    # fields: first, second
    "co_purchase": (
        Phrasing("co_plain", "Product A: {first}\nProduct B: {second}\nAre these often bought together? " + YES_NO),
        Phrasing("co_basket", "A customer put \"{first}\" in the basket. Would they also buy \"{second}\"? "
                              + YES_NO),
        Phrasing("co_pair", "Do these two products go together in one order?\n1. {first}\n2. {second}\n" + YES_NO,
                 system="You predict which products customers buy together."),
    ),
}


def pick(task: str, key: str, seed: int) -> Phrasing:
    """The phrasing instance ``key`` of ``task`` is asked in (seeded, stable across rebuilds)."""
    options = PHRASINGS[task]
    digest = hashlib.sha256(f"{seed}\x1f{task}\x1f{key}".encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def render_generation(phrasing: Phrasing, relation: Relation | None, name: str, kind: str, left: str,
                      right: str) -> list[dict[str, str]]:
    if phrasing.id == QA_CHAT and relation is not None:
        return [dict(m) for m in qa_chat_template().render(relation, kind, clean_text(left), clean_text(right)).messages]
    if phrasing.id == QA_CHAT:
        phrasing = PHRASINGS["generation"][1]
    return messages(phrasing, {"behavior": behavior_text(kind, left, right), **prompt_fields(relation, name, kind)})


def numbered(tails: list[str]) -> str:
    """The answer format the generate parser reads: ``1. a\\n2. b``."""
    return "\n".join(f"{i}. {t}" for i, t in enumerate(tails, 1))


def render_judgement(phrasing: Phrasing, task: str, relation: Relation | None, name: str, kind: str, behavior: str,
                     tail: str) -> list[dict[str, str]]:
    """``behavior``: the sentence :func:`behavior_text` writes (or a label's head when the behaviour is gone)."""
    return judgement_messages(task, behavior, relation, name, kind, tail, variant=PHRASINGS[task].index(phrasing))


def render_pair(phrasing: Phrasing, task: str, a: str, b: str) -> list[dict[str, str]]:
    names = ("query", "product") if task == "search_relevance" else ("first", "second")
    return messages(phrasing, dict(zip(names, (clean_text(a), clean_text(b)))))
