"""The text a critic reads for one candidate. The critic package owns it: training
(:mod:`intentkg.critic.dataset`) and scoring (:mod:`intentkg.filter.critic`) both format
candidates with :func:`critic_input`, so they cannot drift apart."""

from __future__ import annotations

from intentkg.text import relation_text

DEFAULT_TEMPLATE = "{head} | {relation} | {tail}"
# Inputs longer than max_length lose tokens from the left: the head (two product titles for a
# co-buy) comes first and is the long part, while the relation and the tail at the end are what the
# critic judges. Cut from the right, 87% of the demo's inputs lost their tail at 32 tokens (the test
# fixture's length), so the critic never saw what it was judging. Recorded in intentkg_critic.json
# as "truncation_side"; a critic folder without it was trained with the right side cut.
TRUNCATION_SIDE = "left"


def critic_input(head: str, relation: str, tail: str, template: str = DEFAULT_TEMPLATE) -> str:
    """The exact text a critic sees for one candidate."""
    return template.format(head=" ".join((head or "").split()), relation=relation_text(relation or ""),
                           tail=" ".join((tail or "").split()))
