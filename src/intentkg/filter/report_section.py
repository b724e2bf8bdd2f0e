"""Report section: the filter funnel, rejection reasons, relation distribution, and examples for each
reason. Registers itself when imported (`intentkg report` imports it); the report package does not
import the filter back."""

from __future__ import annotations

import heapq
from itertools import count

from intentkg.filter.funnel import COSMO_KEPT_SHARE, Funnel
from intentkg.filter.view import STAGE, STEPS, iter_view, step_of
from intentkg.operating_point import GENERATION, OperatingPoint
from intentkg.operating_point import saved as load_operating_point
from intentkg.report.charts import bar_chart
from intentkg.report.html import Raw, esc, table, tags
from intentkg.report.registry import ReportContext, section

REASON_HELP = {
    "parse_failed": "the generator's answer gave no usable tail",
    "too_short": "below the word / character minimum",
    "too_long": "above the word / character maximum",
    "incomplete": "stops mid-phrase (dangling word, punctuation, unbalanced brackets)",
    "echo_query": "repeats the query",
    "echo_title": "repeats a product title",
    "echo_product_type": "repeats the product type (the catalogue's, else the title's)",
    "restates_product": "names the product itself, not something about it",
    "copied_example": "copies a worked answer its prompt showed, with no word of the behaviour",
    "ignores_behavior": "the same whole answer was given for unrelated products",
    "unconfirmed": "too few of its prompt's samples named it",
    "unrelated_to_behavior": "its embedding is far from the query and title: about something else",
    "circular": "restates the purchase instead of a reason",
    "empty_reason": "no content word",
    "malformed_relation": "unknown or malformed relation",
    "generic_tail": "attached to many unrelated products",
    "low_completeness": "language-model completeness below the threshold",
    "input_paraphrase": "a paraphrase of the title or query (embedding cosine)",
    "duplicate": "a near-duplicate of a kept row",
    "low_plausibility": "critic plausibility below the threshold",
    "low_typicality": "critic typicality below the threshold",
}


class _Samples:
    """Reservoir samples per key: k rows chosen uniformly at random from a stream, bounded memory."""

    def __init__(self, k: int, rng):
        self.k, self.rng, self.heaps, self.tick = k, rng, {}, count()

    def offer(self, key: str, row: dict) -> None:
        heap = self.heaps.setdefault(key, [])
        item = (self.rng.random(), next(self.tick), row)
        if len(heap) < self.k:
            heapq.heappush(heap, item)
        elif item[0] > heap[0][0]:
            heapq.heapreplace(heap, item)

    def rows(self, key: str) -> list[dict]:
        return [row for _, _, row in sorted(self.heaps.get(key, []), key=lambda x: x[1])]


def _detail(reason: str, row: dict, point: OperatingPoint) -> str:
    flags = row["rule_flags"] or []
    if reason in flags:
        return row["rule_details"][flags.index(reason)]
    if reason == "low_completeness":
        limit = (point.min_generation_completeness if row.get("completeness_source") == GENERATION
                 else point.min_completeness)
        return f"completeness {row['completeness']:.2f} < {limit} ({row.get('completeness_source') or 'scorer'})"
    if reason == "input_paraphrase":
        return f"cosine to the source {row['input_similarity']:.2f} > {point.max_input_similarity}"
    if reason == "duplicate":
        sim = row.get("dup_similarity")
        return (f"{row.get('dup_kind') or 'near'} duplicate"
                + (f" ({sim:.2f})" if sim is not None else "") + f" of {row['dup_of']}")
    if reason == "low_plausibility":
        return f"plausibility {row['plausibility']:.2f} < {point.plausibility_for(row.get('relation'))}"
    if reason == "low_typicality":
        return f"typicality {row['typicality']:.2f} < {point.min_typicality}"
    return ""


def _examples(rows: list[dict], reason: str | None, point: OperatingPoint, rep_tails: dict[str, str]) -> str:
    out = []
    for row in rows:
        detail = _detail(reason, row, point) if reason else ", ".join(
            f"{k} {row[k]:.2f}" for k in ("completeness", "plausibility", "typicality") if row.get(k) is not None)
        if reason == "duplicate" and row.get("dup_of") in rep_tails:
            detail += f": {rep_tails[row['dup_of']]!r}"
        out.append([row.get("kind"), row.get("head"), row.get("relation"), row.get("tail"), detail])
    return table(["kind", "head", "relation", "tail", "why" if reason else "scores"], out)


@section("filter", "Filter", order=30)
def render(ctx: ReportContext) -> str | None:
    ws = ctx.workspace
    manifest = ws.manifest(STAGE)
    if manifest is None or manifest.status != "complete":
        return None
    point = ctx.options.get("operating_point") or load_operating_point(ws)
    funnel, samples = Funnel(), _Samples(ctx.examples, ctx.rng("filter"))
    columns = ("kind", "head", "relation", "tail", "rule_flags", "rule_details", "completeness", "input_similarity",
               "dup_of", "dup_kind", "dup_similarity", "plausibility", "typicality", "reasons", "kept")
    for batch in iter_view(ws, point):
        funnel.add(batch)
        for row in batch.select(list(columns)).to_pylist():
            if row["kept"]:
                samples.offer("__kept__", row)
            for reason in row["reasons"]:
                samples.offer(reason, row)
    dup_ids = [r["dup_of"] for r in samples.rows("duplicate") if r.get("dup_of")]
    rep_tails = _tails_of(ws, dup_ids)
    return "".join([_point_html(point, manifest), _funnel_html(funnel), _reasons_html(funnel),
                    _relations_html(funnel), _examples_html(funnel, samples, point, rep_tails, ctx.examples)])


def _tails_of(ws, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    import duckdb

    from intentkg.duck import quote_path

    con = duckdb.connect()
    path = ws.table_path("generate", "candidates")
    rows = con.execute(f"SELECT candidate_id, tail FROM read_parquet({quote_path(path)}) "
                       f"WHERE list_contains(?, candidate_id)", [ids]).fetchall()
    return {cid: tail for cid, tail in rows}


def _point_html(point: OperatingPoint, manifest) -> str:
    settings = ", ".join(f"{k} = {v}" for k, v in point.model_dump().items())
    models = "; ".join(f"{m.role}: {m.model_id}" for m in manifest.models) or "none"
    return (f"<p>Operating point: <code>{esc(settings)}</code>. Scores are stored for every candidate; "
            f"this page applies the thresholds (<code>intentkg view</code> tries others without re-scoring). "
            f"Models: {esc(models)}.</p>")


def _funnel_html(funnel: Funnel) -> str:
    columns = {"all": funnel.total(), **funnel.by_kind()}
    labels = ["candidates", *[f"after {s}" for s in STEPS]]
    series = {name: [c["candidates"], *[c["survivors"][s] for s in STEPS]] for name, c in columns.items()}
    chart = bar_chart(labels, series, "Candidates surviving each step",
                      shares_of=[c["candidates"] for c in columns.values()])
    rows = [[label, *[series[name][i] for name in columns]] for i, label in enumerate(labels)]
    kept = ", ".join(f"{name} {100 * (c['kept_share'] or 0):.1f}%" for name, c in columns.items())
    return (f"<h3>Funnel</h3>{chart}<p>Kept: {esc(kept)} (COSMO kept ~9% of co-purchase and ~35% of "
            f"search-buy explanations).</p>" + table(["step", *columns], rows, numeric=range(1, len(columns) + 1)))


def _reasons_html(funnel: Funnel) -> str:
    kinds = funnel.kinds()
    first = funnel.reason_counts(first=True)
    rows = [[Raw(f"<code>{esc(reason)}</code>"), step_of(reason), REASON_HELP.get(reason, ""), n, first.get(reason, 0),
             *[funnel.reason_counts(kind).get(reason, 0) for kind in kinds]]
            for reason, n in funnel.reason_counts().items()]
    if not rows:
        return "<h3>Rejection reasons</h3><p>No candidate was rejected.</p>"
    return ("<h3>Rejection reasons</h3><p class=\"muted\">A row can have several reasons; "
            "'first' counts the reason of the earliest step that rejected it.</p>"
            + table(["reason", "step", "meaning", "rows", "first", *kinds], rows,
                    numeric=range(3, 5 + len(kinds))))


def _relations_html(funnel: Funnel) -> str:
    by_relation = funnel.by_relation()
    labels = list(by_relation)
    chart = bar_chart(labels, {"candidates": [v["candidates"] for v in by_relation.values()],
                               "kept": [v["kept"] for v in by_relation.values()]}, "Relations: candidates and kept")
    survival = funnel.to_dict()["by_kind_relation"]
    rows = []
    for name, summary in survival.items():
        kind, relation = name.split("/", 1)
        cosmo = COSMO_KEPT_SHARE.get(kind)
        rows.append([kind, relation, summary["candidates"], summary["kept"],
                     f"{100 * (summary['kept_share'] or 0):.1f}%", f"{100 * cosmo:.0f}%" if cosmo else ""])
    return (f"<h3>Relation distribution</h3>{chart}<p>Survival by kind and relation, beside the share COSMO "
            f"kept for that kind:</p>"
            + table(["kind", "relation", "candidates", "kept", "kept %", "COSMO kept"], rows, numeric=range(2, 6)))


def _examples_html(funnel: Funnel, samples: _Samples, point: OperatingPoint, rep_tails: dict, k: int) -> str:
    parts = [f"<h3>Examples</h3><p class=\"muted\">Up to {k} random rows per reason (fixed seed).</p>"]
    kept = samples.rows("__kept__")
    parts.append(f"<details open><summary>kept ({funnel.total()['kept']:,})</summary>"
                 f"{_examples(kept, None, point, rep_tails) if kept else '<p>none</p>'}</details>")
    for reason, n in funnel.reason_counts().items():
        parts.append(f"<details><summary>{tags([reason], bad=True).html} {n:,} rows — "
                     f"{esc(REASON_HELP.get(reason, ''))}</summary>"
                     f"{_examples(samples.rows(reason), reason, point, rep_tails)}</details>")
    return "".join(parts)
