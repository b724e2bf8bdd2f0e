"""Which worked answers a few-shot prompt shows: a few from the relation's pool, chosen per behaviour.

A small model copies the answers it was shown ("a birthday party" for dog collars and knife sets
when every prompt shows the birthday-candles example). Each prompt therefore shows ``k`` examples
drawn from the relation's pool (``relations.yaml``), so one copied answer cannot spread to every
product, and the filter knows which answers a prompt showed (``shown_examples`` on each candidate)::

    shots = pick_shots(relation, "b-123", "dog collar -> Leather Dog Collar", k=2)

The choice is deterministic (a hash of the key and the example), so re-runs hit the request cache.
With ``groups`` (``few_shot.groups``) the key is one of that many groups the behaviour hashes to, so
the behaviours of a group see the same examples and their prompts share the few-shot block (a
KV-cache prefix the model evaluates once per group instead of once per behaviour); each example is
still shown to about the same share of behaviours, in fewer distinct combinations.
With ``domain`` on, examples that share words with the behaviour's text come first (a pet product
is shown the pet examples when the pool has some): the prompt's domain is the catalogue's where the
pool allows. One example of the behaviour's own kind always comes first, so the answer's format is
shown; the rest are taken from any kind.
"""

from __future__ import annotations

import hashlib
import re

from intentkg.generate.relations import Example, Relation

_WORD = re.compile(r"[^\W\d_]{3,}")
_COMMON = frozenset("and the for with set pack inch size new men women kids for from that this".split())


def _words(text: str) -> frozenset[str]:
    return frozenset(w.rstrip("s") for w in _WORD.findall(text.lower()) if w not in _COMMON)


def _rank(key: str, relation: str, example: Example) -> bytes:
    return hashlib.sha256(f"{key}\x1f{relation}\x1f{example.left}\x1f{example.right}".encode()).digest()[:8]


def group_key(key: str, groups: int) -> str:
    """The key examples are drawn for: ``key`` itself (``groups`` 0), else the group it hashes to."""
    if groups <= 0:
        return key
    return f"group {int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], 'big') % groups}"


def pick_shots(relation: Relation, key: str, kind: str, text: str, k: int,
               domain: bool = True, groups: int = 0) -> list[tuple[str, Example]]:
    """``k`` (kind, example) pairs of ``relation``'s pool for the prompt identified by ``key``."""
    key = group_key(key, groups)
    pool = relation.pool()
    if k <= 0 or not pool:
        return []
    words = _words(text) if domain else frozenset()

    def order(item: tuple[str, Example]) -> tuple[int, bytes]:
        _, ex = item
        overlap = len(words & _words(f"{ex.left} {ex.right}")) if domain else 0
        return -overlap, _rank(key, relation.name, ex)

    ranked = sorted(pool, key=order)
    own = next((item for item in ranked if item[0] == kind), None)
    chosen = [own] if own else []
    chosen += [item for item in ranked if item is not own][: k - len(chosen)]
    return chosen


def default_shots(relation: Relation) -> list[tuple[str, Example]]:
    """The first example of each kind: what a prompt shows when no key is given (one per kind)."""
    return [(kind, pool[0]) for kind, pool in relation.examples.items() if pool]
