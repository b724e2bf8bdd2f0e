"""The ingest stage: read every source, quarantine bad rows, merge, sample, write products and behaviors.

Outputs (in ``<workspace>/ingest/``): products.parquet, behaviors.parquet, sampling_drops.parquet
(every behaviour not kept, with its reason), quarantine.parquet (every bad input row, with file,
row, column and reason) and manifest.json.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from intentkg import duck, pii
from intentkg.ingest.config import IngestConfig
from intentkg.ingest.pii import Scrubber
from intentkg.ingest.quarantine import Quarantine
from intentkg.ingest.rows import RAW_BEHAVIORS
from intentkg.ingest.sampling import DROPS, sample
from intentkg.ingest.sources import READERS
from intentkg.progress import bar
from intentkg.schemas import PRODUCTS, conform
from intentkg.workspace import Manifest, Workspace

STAGE = "ingest"


def source_paths(config: IngestConfig) -> list[Path]:
    paths = []
    for source in config.sources:
        for attr in ("examples", "products"):
            if getattr(source, attr, None) is not None:
                paths.append(getattr(source, attr))
        if getattr(source, "kind", None) != "esci" or not paths:
            paths.append(source.path)
    return list(dict.fromkeys(paths))


def run_ingest(config: IngestConfig, workspace: Workspace | str | Path, force: bool = False) -> Manifest:
    workspace = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    fingerprint = {**config.model_dump(mode="json"), "pii_scrubber": pii.description() if config.scrub_pii else None}
    with workspace.run(STAGE, config=fingerprint, inputs=source_paths(config),
                       force=force) as run:
        if run.skipped:
            return run.previous  # type: ignore[return-value]
        quarantine = Quarantine()
        scrubber = Scrubber(config.scrub_pii)
        products, raw, per_source = [], [], []
        with run.time("read"), bar("reading sources", len(config.sources), unit="sources") as progress:
            for source in config.sources:
                tables = READERS[source.kind](source, quarantine, scrubber)
                products.append(tables.products)
                raw.append(tables.behaviors)
                per_source.append({"kind": source.kind, "path": str(source.path),
                                   "products": tables.products.num_rows,
                                   "behavior_rows": tables.behaviors.num_rows, **tables.counts})
                progress.advance()
        with run.time("merge"):
            product_table, merged_duplicates = merge_products(products)
            raw_table = pa.concat_tables(raw) if raw else RAW_BEHAVIORS.empty_table()
            before = len(quarantine)
            behaviors = link_behaviors(raw_table, product_table, quarantine)
            merged_rows = raw_table.num_rows - (len(quarantine) - before) - behaviors.num_rows
        with run.time("sample"):
            types = product_table.select(["product_id", "category", "product_type"])
            types = types.append_column("ptype", pc.coalesce(types.column("product_type"), types.column("category"),
                                                             pa.scalar("unknown")))
            kept, drops = sample(behaviors, types, config.sampling)
        run.write("products", product_table)
        run.write("behaviors", kept)
        run.write("sampling_drops", drops, schema=DROPS)
        run.write("quarantine", quarantine.table())
        kinds = pc.value_counts(kept.column("kind")).to_pylist() if kept.num_rows else []
        run.counts.update({
            "rows_in": sum(s["products"] + s["behavior_rows"] for s in per_source) + len(quarantine),
            "products": product_table.num_rows,
            "products_merged_across_sources": merged_duplicates,
            "behaviors_linked": behaviors.num_rows,
            "behavior_rows_merged": merged_rows,  # rows that repeat a (kind, left, right) pair: support summed
            "behaviors_kept": kept.num_rows,
            "behaviors_by_kind": {k["values"]: k["counts"] for k in kinds},
            "sampled_out": drops.num_rows,
            "sampled_out_by_reason": dict(zip(*np.unique(drops.column("reason").to_numpy(zero_copy_only=False),
                                                          return_counts=True))) if drops.num_rows else {},
            "rejected": len(quarantine),
            "quarantine": quarantine.summary(),
            "pii": scrubber.summary(),
            "sources": per_source,
        })
        run.counts["sampled_out_by_reason"] = {str(k): int(v) for k, v in run.counts["sampled_out_by_reason"].items()}
    return workspace.manifest(STAGE)  # type: ignore[return-value]


def merge_products(tables: list[pa.Table]) -> tuple[pa.Table, int]:
    """Concatenate products of all sources; the first source to name an id wins."""
    if not tables:
        return PRODUCTS.empty_table(), 0
    table = pa.concat_tables([conform(t, "products") for t in tables])
    ids = table.column("product_id").to_pylist()
    seen: set[str] = set()
    keep = np.zeros(len(ids), dtype=bool)
    for i, product_id in enumerate(ids):
        if product_id not in seen:
            seen.add(product_id)
            keep[i] = True
    return table.filter(pa.array(keep)), int((~keep).sum())


def link_behaviors(raw: pa.Table, products: pa.Table, quarantine: Quarantine) -> pa.Table:
    """Quarantine dangling and self pairs, merge duplicate pairs, attach titles and categories."""
    known = products.column("product_id")
    right_ok = pc.fill_null(pc.is_in(raw.column("right"), known), False).to_numpy(zero_copy_only=False)
    is_co_buy = pc.equal(raw.column("kind"), "co_buy").to_numpy(zero_copy_only=False)
    left_ok = pc.fill_null(pc.is_in(raw.column("left"), known), False).to_numpy(zero_copy_only=False) | ~is_co_buy
    self_pair = is_co_buy & pc.equal(raw.column("left"), raw.column("right")).to_numpy(zero_copy_only=False)
    bad = ~right_ok | ~left_ok | self_pair
    if bad.any():
        files = raw.column("source_file").to_pylist()
        rows = raw.column("source_row").to_pylist()
        lefts, rights = raw.column("left").to_pylist(), raw.column("right").to_pylist()
        for i in np.flatnonzero(bad):
            if self_pair[i]:
                reason, column, detail = "self_pair", "product_id", "a product paired with itself"
            else:
                missing = rights[i] if not right_ok[i] else lefts[i]
                reason, column = "dangling_product", "product_id"
                detail = f"product_id {missing} is not in any products input; add it or drop the row"
            quarantine.add(file=files[i], row=rows[i], column=column, reason=reason, detail=detail,
                           raw={"left": lefts[i], "right": rights[i]})
    good = _without_overflowing_sums(raw.filter(pa.array(~bad)), quarantine)
    con = duck.connect()
    con.register("raw", good.append_column("seq", pa.array(np.arange(good.num_rows), pa.int64())))
    con.register("products", products)
    result = duck.to_arrow(con, """
        WITH canon AS (
          SELECT kind,
            CASE WHEN kind = 'co_buy' AND "left" > "right" THEN "right" ELSE "left" END AS l,
            CASE WHEN kind = 'co_buy' AND "left" > "right" THEN "left" ELSE "right" END AS r,
            query_text, support, clicks, impressions, pii_redactions, source, source_file, source_row, seq
          FROM raw),
        agg AS (
          SELECT kind, l, r, arg_min(query_text, seq) AS query_text, sum(support)::BIGINT AS support,
            sum(clicks)::BIGINT AS clicks, sum(impressions)::BIGINT AS impressions,
            max(pii_redactions)::INTEGER AS pii_redactions, arg_min(source, seq) AS source,
            arg_min(source_file, seq) AS source_file, arg_min(source_row, seq) AS source_row, min(seq) AS seq
          FROM canon GROUP BY kind, l, r)
        SELECT substr(md5(a.kind || chr(31) || a.l || chr(31) || a.r), 1, 16) AS behavior_id,
          a.kind, a.l AS "left", a.r AS "right",
          CASE WHEN a.kind = 'search_buy' THEN a.query_text ELSE pl.title END AS left_text,
          pr.title AS right_text, a.support, a.clicks, a.impressions,
          coalesce(pr.category, pl.category) AS category, a.pii_redactions,
          a.source, a.source_file, a.source_row
        FROM agg a JOIN products pr ON pr.product_id = a.r
        LEFT JOIN products pl ON pl.product_id = a.l AND a.kind = 'co_buy'
        ORDER BY a.seq
    """)
    return conform(result, "behaviors")


def _without_overflowing_sums(raw: pa.Table, quarantine: Quarantine) -> pa.Table:
    """Quarantine the rows of a pair whose summed support, clicks or impressions leave the 64-bit range."""
    con = duck.connect()
    con.register("raw", raw.append_column("seq", pa.array(np.arange(raw.num_rows), pa.int64())))
    rows = duck.run(con, """
        WITH canon AS (
          SELECT seq, kind, least("left", "right") AS a, greatest("left", "right") AS b, "left", "right",
                 support, clicks, impressions, source_file, source_row FROM raw),
        keyed AS (SELECT *, CASE WHEN kind = 'co_buy' THEN a ELSE "left" END AS l,
                            CASE WHEN kind = 'co_buy' THEN b ELSE "right" END AS r FROM canon),
        big AS (
          SELECT kind, l, r FROM keyed GROUP BY kind, l, r
          HAVING greatest(sum(support::HUGEINT), coalesce(sum(clicks::HUGEINT), 0),
                          coalesce(sum(impressions::HUGEINT), 0)) > 9223372036854775807)
        SELECT k.seq, k.source_file, k.source_row, k."left", k."right" FROM keyed k JOIN big USING (kind, l, r)
        ORDER BY k.seq""")
    if not rows:
        return raw
    for _, file, row, left, right in rows:
        quarantine.add(file=file, row=row, column="support", reason="out_of_range",
                       detail="this pair's rows add up to more than the 64-bit range; check the counts",
                       raw={"left": left, "right": right})
    keep = np.ones(raw.num_rows, dtype=bool)
    keep[[seq for seq, *_ in rows]] = False
    return raw.filter(pa.array(keep))
