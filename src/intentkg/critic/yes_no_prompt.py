"""The yes/no questions a language model answers about one candidate: plausibility and typicality.

One home for both sides, like :mod:`intentkg.critic.template` for the classifier critic: the
student's instruction data (``intentkg distill data``, its plausibility and typicality rows, through
:mod:`intentkg.distill.tasks`) asks with :func:`judgement_messages` in several phrasings (COSMO
varied its templates for robustness), and the student critic (``intentkg filter --critic-student``,
:mod:`intentkg.filter.student_critic`) asks with phrasing 0 about the same behaviour sentence, so
training and scoring cannot drift apart. The answer is one word, ``yes`` or ``no``.

The behaviour is the sentence ``intentkg generate`` writes into its prompts (the packaged
``qa_chat`` template's ``behavior`` text, :func:`behavior_text`), the relation is asked with its
cue from the relation schema (:func:`intentkg.generate.relations.prompt_fields`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from intentkg.generate.prompts import clean_text, load_template
from intentkg.generate.relations import Relation, prompt_fields

TASKS = ("plausibility", "typicality")
ANSWERS = ("yes", "no")
QA_CHAT = "qa_chat"


@dataclass(frozen=True)
class Phrasing:
    """One wording of an instruction: ``user`` (and ``system``) with ``str.format`` fields."""

    id: str
    user: str
    system: str = ""


YES_NO = "Answer yes or no."  # the instruction every yes/no question ends with (distill's pair tasks too)
# fields: behavior, relation, cue, tail. Phrasing 0 of each task is the student critic's question.
PHRASINGS: dict[str, tuple[Phrasing, ...]] = {
    "plausibility": (
        Phrasing("plaus_claim", "{behavior}\nClaim: \"{cue} {tail}.\"\nIs the claim plausible? " + YES_NO),
        Phrasing("plaus_triple", "Behaviour: {behavior}\nRelation: {relation}\nTail: {tail}\n"
                                 "Is this a correct explanation of the behaviour? " + YES_NO),
        Phrasing("plaus_judge", "Judge this explanation of a purchase.\n{behavior} {cue} {tail}.\n"
                                "Does it make sense? " + YES_NO,
                 system="You check commonsense knowledge about shopping."),
    ),
    "typicality": (
        Phrasing("typ_claim", "{behavior}\nClaim: \"{cue} {tail}.\"\nIs this a typical reason, true for most "
                              "customers who do this? " + YES_NO),
        Phrasing("typ_triple", "Behaviour: {behavior}\nRelation: {relation}\nTail: {tail}\n"
                               "Is this typical (not just possible)? " + YES_NO),
        Phrasing("typ_judge", "{behavior} {cue} {tail}.\nWould most shoppers agree this is why? " + YES_NO,
                 system="You check commonsense knowledge about shopping."),
    ),
}


def messages(phrasing: Phrasing, fields: dict[str, str]) -> list[dict[str, str]]:
    """Chat messages of one phrasing: its system turn (if any) and the user turn."""
    out = [{"role": "system", "content": phrasing.system}] if phrasing.system else []
    return out + [{"role": "user", "content": phrasing.user.format(**fields)}]


@lru_cache(maxsize=1)
def qa_chat_template():
    return load_template(QA_CHAT)


def behavior_text(kind: str, left: str, right: str) -> str:
    """The behaviour sentence as the generate prompts write it."""
    return qa_chat_template().spec.behavior[kind].format(left=clean_text(left), right=clean_text(right))


def judgement_messages(task: str, behavior: str, relation: Relation | None, name: str, kind: str, tail: str,
                       variant: int = 0) -> list[dict[str, str]]:
    """Chat messages asking ``task`` (plausibility | typicality) about one candidate in phrasing ``variant``.

    ``behavior``: the sentence :func:`behavior_text` writes (or a label's head when the behaviour is
    gone); ``relation``: the schema's relation named ``name`` (None: one the schema no longer has)."""
    if task not in PHRASINGS:
        raise ValueError(f"unknown judgement task {task!r}; use one of {', '.join(TASKS)}")
    phrasings = PHRASINGS[task]
    fields = prompt_fields(relation, name, kind)
    return messages(phrasings[variant % len(phrasings)],
                    {"behavior": " ".join((behavior or "").split()), "relation": fields["relation"],
                     "cue": fields["cue"], "tail": " ".join((tail or "").split())})
