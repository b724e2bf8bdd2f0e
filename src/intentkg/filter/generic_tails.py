"""Generic tails: a tail attached to many unrelated products says nothing about any of them.

A (normalised) tail is generic when it explains at least ``min_heads`` distinct heads (and at least
``min_head_share`` of all heads), those heads span at least ``min_groups`` product types, the
entropy of that product-type distribution is at least ``min_entropy_bits`` and at least
``min_spread`` of the most it could be for that many heads (entropy / log2(heads): 1 when every
head has its own type), and at most ``max_supported_share`` of its heads name a word of it.
"Camping" attached to 200 tents, stoves and lanterns is specific (few types for many heads, and
"Camping Lantern" names it); "everyday use" attached to 200 products of 60 types is generic, and so
is "a birthday party" attached to 255 dog collars, knife sets and slippers, or to 8 of them.

The product type (``grp``) is the catalogue's product type or category, else the head noun of the
product's title (:func:`intentkg.product_types.head_noun`), so catalogues without types (ESCI) work.

The counts run in DuckDB over the stage's scratch table, so they spill to disk for inputs larger
than memory; only the generic tails come back to Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from intentkg.duck import quote_path
from intentkg.filter.config import GenericConfig


@dataclass(frozen=True)
class GenericTail:
    key: str
    heads: int
    groups: int
    entropy_bits: float
    supported: int = 0  # heads whose text names a word of the tail

    def detail(self) -> str:
        return (f"generic: attached to {self.heads} different heads across {self.groups} product types "
                f"(entropy {self.entropy_bits:.1f} bits); {self.supported} of them name it")


def find_generic_tails(con: duckdb.DuckDBPyConnection, rows_path: Path | str,
                       config: GenericConfig) -> dict[str, GenericTail]:
    """Map each generic tail key to its statistics. ``rows_path`` has columns key, head_key, grp and
    optionally supported (the tail shares a content word with that row's behaviour)."""
    if not config.enabled:
        return {}
    source = f"read_parquet({quote_path(rows_path)})"
    has_support = "supported" in [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    support = "coalesce(supported, false)" if has_support else "false"
    total_heads = con.execute(
        f"SELECT count(DISTINCT head_key) FROM {source} WHERE key IS NOT NULL").fetchall()[0][0] or 0
    min_heads = max(config.min_heads, int(config.min_head_share * total_heads))
    result = con.execute(f"""
        WITH pairs AS (
            SELECT key, head_key, coalesce(min(grp), '?') AS grp, bool_or({support}) AS supported
            FROM {source} WHERE key IS NOT NULL GROUP BY key, head_key),
        per_group AS (SELECT key, grp, count(*) AS n, count(*) FILTER (WHERE supported) AS s
                      FROM pairs GROUP BY key, grp),
        totals AS (SELECT key, sum(n) AS heads, count(*) AS groups, sum(s) AS supported FROM per_group GROUP BY key
                   HAVING sum(n) >= ? AND count(*) >= ?),
        scored AS (
            SELECT t.key, t.heads, t.groups, t.supported,
                   -sum((p.n / t.heads) * log2(p.n / t.heads)) AS entropy
            FROM totals t JOIN per_group p USING (key)
            GROUP BY t.key, t.heads, t.groups, t.supported)
        SELECT key, heads, groups, entropy, supported FROM scored
        WHERE entropy >= ? AND entropy >= ? * log2(heads) AND supported <= ? * heads
        ORDER BY heads DESC, key
    """, [min_heads, config.min_groups, config.min_entropy_bits, config.min_spread,
          config.max_supported_share]).fetchall()
    return {key: GenericTail(key, int(heads), int(groups), float(entropy), int(named))
            for key, heads, groups, entropy, named in result}
