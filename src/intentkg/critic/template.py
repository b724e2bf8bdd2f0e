"""The text a critic reads for one candidate. The critic package owns it: training
(:mod:`intentkg.critic.dataset`) and scoring (:mod:`intentkg.filter.critic`) both format
candidates with :func:`critic_input`, so they cannot drift apart."""

from __future__ import annotations

from intentkg.text import relation_text

DEFAULT_TEMPLATE = "{head} | {relation} | {tail}"


def critic_input(head: str, relation: str, tail: str, template: str = DEFAULT_TEMPLATE) -> str:
    """The exact text a critic sees for one candidate."""
    return template.format(head=" ".join((head or "").split()), relation=relation_text(relation or ""),
                           tail=" ".join((tail or "").split()))
