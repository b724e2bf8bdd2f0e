"""Behaviour sampling as COSMO describes it: support and rate thresholds, hub removal, type
cross-checks, per-category quotas with popular (and broad) behaviours first. Seeded and
reproducible: ties break on a hash of (seed, behavior_id), never on input order.

Every behaviour that is not kept gets a row in the ``sampling_drops`` table with its reason.
"""

from __future__ import annotations

import pyarrow as pa

from intentkg import duck
from intentkg.ingest.config import SamplingConfig

DROPS = pa.schema([
    pa.field("behavior_id", pa.string(), nullable=False),
    pa.field("kind", pa.string(), nullable=False),
    pa.field("left", pa.string(), nullable=False),
    pa.field("right", pa.string(), nullable=False),
    pa.field("support", pa.int64(), nullable=False),
    pa.field("reason", pa.string(), nullable=False),
])

REASONS = ("below_min_support", "low_purchase_rate", "low_click_rate", "hub_product", "rare_type_pair",
           "over_category_quota", "over_max_behaviors")


def sample(behaviors: pa.Table, types: pa.Table, config: SamplingConfig) -> tuple[pa.Table, pa.Table]:
    """Return (kept behaviours, drops). ``types`` maps product_id -> type (product_type or category)."""
    con = duck.connect()
    con.register("b", behaviors)
    con.register("types", types)
    c = config
    duck.run(con, f"""
        CREATE TEMP TABLE staged AS
        SELECT b.*,
          CASE
            WHEN support < {c.min_support} THEN 'below_min_support'
            WHEN kind = 'search_buy' AND clicks > 0 AND support::DOUBLE / clicks < {c.min_purchase_rate}
              THEN 'low_purchase_rate'
            WHEN kind = 'search_buy' AND impressions > 0 AND clicks IS NOT NULL
                 AND clicks::DOUBLE / impressions < {c.min_click_rate} THEN 'low_click_rate'
          END AS reason
        FROM b
    """)
    if c.max_hub_categories is not None:
        duck.run(con, f"""
            CREATE TEMP TABLE hubs AS
            WITH sides AS (
              SELECT s."left" AS p, t.category AS partner_cat FROM staged s JOIN types t ON t.product_id = s."right"
              WHERE s.kind = 'co_buy' AND s.reason IS NULL
              UNION ALL
              SELECT s."right", t.category FROM staged s JOIN types t ON t.product_id = s."left"
              WHERE s.kind = 'co_buy' AND s.reason IS NULL)
            SELECT p FROM sides GROUP BY p HAVING count(DISTINCT partner_cat) > {c.max_hub_categories}
        """)
        duck.run(con, """
            UPDATE staged SET reason = 'hub_product'
            WHERE reason IS NULL AND kind = 'co_buy'
              AND ("left" IN (SELECT p FROM hubs) OR "right" IN (SELECT p FROM hubs))
        """)
    if c.min_type_pair_support > 1:
        duck.run(con, f"""
            UPDATE staged SET reason = 'rare_type_pair'
            FROM (
              SELECT s.behavior_id, count(*) OVER (PARTITION BY least(tl.ptype, tr.ptype),
                                                   greatest(tl.ptype, tr.ptype)) AS n
              FROM staged s JOIN types tl ON tl.product_id = s."left" JOIN types tr ON tr.product_id = s."right"
              WHERE s.kind = 'co_buy' AND s.reason IS NULL
            ) q
            WHERE staged.behavior_id = q.behavior_id AND q.n < {c.min_type_pair_support}
        """)
    quota = c.per_category_quota or 2**62
    cap = c.max_behaviors or 2**62
    duck.run(con, f"""
        CREATE TEMP TABLE ranked AS
        WITH breadth AS (
          SELECT "left" AS q, count(DISTINCT "right") AS n FROM staged
          WHERE kind = 'search_buy' AND reason IS NULL GROUP BY 1),
        pri AS (
          SELECT s.behavior_id,
            s.support * (1 + {c.broad_query_weight} * CASE WHEN s.kind = 'search_buy'
                                                        THEN ln(coalesce(br.n, 1)) ELSE 0 END) AS priority,
            hash({c.seed}, s.behavior_id) AS tiebreak
          FROM staged s LEFT JOIN breadth br ON br.q = s."left" WHERE s.reason IS NULL)
        SELECT behavior_id, priority, tiebreak,
          row_number() OVER (PARTITION BY s.kind, coalesce(s.category, '') ORDER BY priority DESC, tiebreak)
            AS cat_rank
        FROM pri JOIN staged s USING (behavior_id)
    """)
    duck.run(con, f"""
        UPDATE staged SET reason = 'over_category_quota'
        WHERE behavior_id IN (SELECT behavior_id FROM ranked WHERE cat_rank > {quota})
    """)
    duck.run(con, f"""
        UPDATE staged SET reason = 'over_max_behaviors'
        WHERE behavior_id IN (
          SELECT behavior_id FROM (
            SELECT r.behavior_id, row_number() OVER (ORDER BY priority DESC, tiebreak) AS g
            FROM ranked r JOIN staged s USING (behavior_id) WHERE s.reason IS NULL)
          WHERE g > {cap})
    """)
    columns = ", ".join(f'"{name}"' for name in behaviors.column_names)
    kept = duck.to_arrow(con, f"""
        SELECT {columns} FROM staged LEFT JOIN ranked USING (behavior_id)
        WHERE reason IS NULL ORDER BY priority DESC, tiebreak""")
    drops = duck.to_arrow(con, f"""
        SELECT behavior_id, kind, "left", "right", support, reason FROM staged
        WHERE reason IS NOT NULL ORDER BY reason, behavior_id""")
    return kept.cast(behaviors.schema), drops.cast(DROPS)
