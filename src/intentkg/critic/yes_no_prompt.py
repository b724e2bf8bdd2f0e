"""The yes/no questions a language-model critic (the distilled student) answers for one candidate.

One home for both sides, like :mod:`intentkg.critic.template` for the classifier critic: the
student's instruction data (``intentkg distill data``, plausibility and typicality rows) asks with
:func:`judgement_messages` in several phrasings (COSMO varied its templates for robustness), and
the student critic (:mod:`intentkg.filter.student_critic`) asks with phrasing 0, so training and
scoring cannot drift apart. The answer is one word, ``yes`` or ``no``.
"""

from __future__ import annotations

from intentkg.text import relation_text

TASKS = ("plausibility", "typicality")
SYSTEM = "You check commonsense knowledge about why people buy products. Answer with one word: yes or no."
# the candidate's head as the generate stage writes it: "query -> product" or "product A + product B"
BEHAVIOUR = 'Shopping behaviour: {head}'

PHRASINGS: dict[str, tuple[str, ...]] = {
    "plausibility": (
        "{behaviour}\nStatement: the purchase is {relation} {tail}.\nIs this statement plausible? Answer yes or no.",
        "{behaviour}\nCould the reason be: {relation} \"{tail}\"? Answer yes or no.",
        "Behaviour: {behaviour}\nRelation: {relation}\nTail: {tail}\nDoes the tail make sense for this behaviour? "
        "Answer yes or no.",
    ),
    "typicality": (
        "{behaviour}\nStatement: the purchase is {relation} {tail}.\nIs this a typical, informative reason for "
        "such a purchase (not just possible)? Answer yes or no.",
        "{behaviour}\nWould most shoppers making this purchase have it {relation} \"{tail}\"? Answer yes or no.",
        "Behaviour: {behaviour}\nRelation: {relation}\nTail: {tail}\nIs the tail a typical intention behind "
        "this behaviour? Answer yes or no.",
    ),
}
ANSWERS = ("yes", "no")


def judgement_messages(task: str, head: str, relation: str, tail: str, variant: int = 0) -> list[dict[str, str]]:
    """Chat messages asking ``task`` (plausibility | typicality) about one candidate, in phrasing ``variant``."""
    if task not in PHRASINGS:
        raise ValueError(f"unknown judgement task {task!r}; use one of {', '.join(TASKS)}")
    phrasings = PHRASINGS[task]
    head = " ".join((head or "").split())
    behaviour = BEHAVIOUR.format(head=head)
    user = phrasings[variant % len(phrasings)].format(behaviour=behaviour, relation=relation_text(relation or ""),
                                                      tail=" ".join((tail or "").split()))
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
