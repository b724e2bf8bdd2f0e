"""The student's five tasks (COSMO-LM) and the phrasings each is asked in.

COSMO varied its instruction templates for robustness; here every task has three phrasings, and
each task instance is asked in one of them, picked by a seeded hash of the instance (so a rebuild
asks the same instance the same way, and the phrasings share the data about equally).

- ``generation``: behaviour + relation -> a numbered list of the knowledge that passed the filter.
  Phrasing ``qa_chat`` is exactly the prompt ``intentkg generate`` sends a chat model (the packaged
  ``qa_chat`` template, its default worked answers included), so the student answers ``generate``
  as it was trained; the other two are short instructions without worked answers.
- ``plausibility`` / ``typicality``: behaviour + relation + tail -> ``yes`` / ``no``.
- ``search_relevance``: (query, product title) -> ``yes`` / ``no``.
- ``co_purchase``: (product title, product title) -> ``yes`` / ``no``.

A prompt is a list of chat messages (``{"role", "content"}``); the answer is one assistant turn.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from intentkg.generate.prompts import clean_text, load_template
from intentkg.generate.relations import Relation
from intentkg.text import relation_text

TASKS = ("generation", "plausibility", "typicality", "search_relevance", "co_purchase")
YES, NO = "yes", "no"
QA_CHAT = "qa_chat"


@dataclass(frozen=True)
class Phrasing:
    id: str
    user: str  # str.format fields: see each task's fields below
    system: str = ""


_YES_NO = "Answer yes or no."
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
    # fields: behavior, relation, cue, tail
    "plausibility": (
        Phrasing("plaus_claim", "{behavior}\nClaim: \"{cue} {tail}.\"\nIs the claim plausible? " + _YES_NO),
        Phrasing("plaus_triple", "Behaviour: {behavior}\nRelation: {relation}\nTail: {tail}\n"
                                 "Is this a correct explanation of the behaviour? " + _YES_NO),
        Phrasing("plaus_judge", "Judge this explanation of a purchase.\n{behavior} {cue} {tail}.\n"
                                "Does it make sense? " + _YES_NO,
                 system="You check commonsense knowledge about shopping."),
    ),
    "typicality": (
        Phrasing("typ_claim", "{behavior}\nClaim: \"{cue} {tail}.\"\nIs this a typical reason, true for most "
                              "customers who do this? " + _YES_NO),
        Phrasing("typ_triple", "Behaviour: {behavior}\nRelation: {relation}\nTail: {tail}\n"
                               "Is this typical (not just possible)? " + _YES_NO),
        Phrasing("typ_judge", "{behavior} {cue} {tail}.\nWould most shoppers agree this is why? " + _YES_NO,
                 system="You check commonsense knowledge about shopping."),
    ),
    # fields: query, product
    "search_relevance": (
        Phrasing("rel_plain", "Query: {query}\nProduct: {product}\nIs the product relevant to the query? " + _YES_NO),
        Phrasing("rel_shopper", "A shopper searched for \"{query}\". Would \"{product}\" be a good result? " + _YES_NO),
        Phrasing("rel_match", "Does this product match the search?\nSearch: {query}\nProduct title: {product}\n"
                              + _YES_NO, system="You judge search results of an online shop."),
    ),
    # fields: first, second
    "co_purchase": (
        Phrasing("co_plain", "Product A: {first}\nProduct B: {second}\nAre these often bought together? " + _YES_NO),
        Phrasing("co_basket", "A customer put \"{first}\" in the basket. Would they also buy \"{second}\"? "
                              + _YES_NO),
        Phrasing("co_pair", "Do these two products go together in one order?\n1. {first}\n2. {second}\n" + _YES_NO,
                 system="You predict which products customers buy together."),
    ),
}


def pick(task: str, key: str, seed: int) -> Phrasing:
    """The phrasing instance ``key`` of ``task`` is asked in (seeded, stable across rebuilds)."""
    options = PHRASINGS[task]
    digest = hashlib.sha256(f"{seed}\x1f{task}\x1f{key}".encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def _messages(phrasing: Phrasing, fields: dict[str, str]) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": phrasing.system}] if phrasing.system else []
    return messages + [{"role": "user", "content": phrasing.user.format(**fields)}]


@lru_cache(maxsize=1)
def _qa_chat():
    return load_template(QA_CHAT)


def behavior_text(kind: str, left: str, right: str) -> str:
    """The behaviour sentence as the generate prompts write it."""
    return _qa_chat().spec.behavior[kind].format(left=clean_text(left), right=clean_text(right))


def _relation_fields(relation: Relation | None, name: str, kind: str) -> dict[str, str]:
    if relation is None:  # a relation the schema no longer has: a neutral wording
        text = relation_text(name)
        return {"relation": text, "description": text, "question": f"What is it {text}?", "cue": f"It is {text}"}
    return {"relation": relation_text(relation.name), "description": relation.description,
            "question": relation.question[kind], "cue": relation.cue[kind]}


def render_generation(phrasing: Phrasing, relation: Relation | None, name: str, kind: str, left: str,
                      right: str) -> list[dict[str, str]]:
    if phrasing.id == QA_CHAT and relation is not None:
        return [dict(m) for m in _qa_chat().render(relation, kind, clean_text(left), clean_text(right)).messages]
    if phrasing.id == QA_CHAT:
        phrasing = PHRASINGS["generation"][1]
    return _messages(phrasing, {"behavior": behavior_text(kind, left, right), **_relation_fields(relation, name, kind)})


def numbered(tails: list[str]) -> str:
    """The answer format the generate parser reads: ``1. a\\n2. b``."""
    return "\n".join(f"{i}. {t}" for i, t in enumerate(tails, 1))


def render_judgement(phrasing: Phrasing, relation: Relation | None, name: str, kind: str, behavior: str,
                     tail: str) -> list[dict[str, str]]:
    """``behavior``: the sentence :func:`behavior_text` writes (or a label's head when the behaviour is gone)."""
    fields = _relation_fields(relation, name, kind)
    return _messages(phrasing, {"behavior": behavior, "relation": fields["relation"],
                                "cue": fields["cue"], "tail": " ".join(tail.split())})


def render_pair(phrasing: Phrasing, task: str, a: str, b: str) -> list[dict[str, str]]:
    names = ("query", "product") if task == "search_relevance" else ("first", "second")
    return _messages(phrasing, dict(zip(names, (clean_text(a), clean_text(b)))))
