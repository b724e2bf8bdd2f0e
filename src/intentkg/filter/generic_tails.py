"""Generic tails: a tail attached to many unrelated products says nothing about any of them.

A (normalised) tail is generic when it explains at least ``min_heads`` distinct heads (and at least
``min_head_share`` of all heads), those heads span at least ``min_groups`` product types, and the
entropy of that product-type distribution is at least ``min_entropy_bits``. "Camping" attached to
200 tents, stoves and lanterns is specific (low entropy over a few camping types); "everyday use"
attached to 200 products of 60 types is generic.

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

    def detail(self) -> str:
        return (f"generic: attached to {self.heads} different heads across {self.groups} product types "
                f"(entropy {self.entropy_bits:.1f} bits)")


def find_generic_tails(con: duckdb.DuckDBPyConnection, rows_path: Path | str,
                       config: GenericConfig) -> dict[str, GenericTail]:
    """Map each generic tail key to its statistics. ``rows_path`` has columns key, head_key, grp."""
    if not config.enabled:
        return {}
    source = f"read_parquet({quote_path(rows_path)})"
    total_heads = con.execute(
        f"SELECT count(DISTINCT head_key) FROM {source} WHERE key IS NOT NULL").fetchall()[0][0] or 0
    min_heads = max(config.min_heads, int(config.min_head_share * total_heads))
    result = con.execute(f"""
        WITH pairs AS (
            SELECT DISTINCT key, head_key, coalesce(grp, '?') AS grp FROM {source} WHERE key IS NOT NULL),
        per_group AS (SELECT key, grp, count(*) AS n FROM pairs GROUP BY key, grp),
        totals AS (SELECT key, sum(n) AS heads, count(*) AS groups FROM per_group GROUP BY key
                   HAVING sum(n) >= ? AND count(*) >= ?)
        SELECT t.key, t.heads, t.groups,
               -sum((p.n / t.heads) * log2(p.n / t.heads)) AS entropy
        FROM totals t JOIN per_group p USING (key)
        GROUP BY t.key, t.heads, t.groups
        HAVING -sum((p.n / t.heads) * log2(p.n / t.heads)) >= ?
        ORDER BY t.heads DESC
    """, [min_heads, config.min_groups, config.min_entropy_bits]).fetchall()
    return {key: GenericTail(key, int(heads), int(groups), float(entropy))
            for key, heads, groups, entropy in result}
