"""The table contracts between stages, as Arrow schemas, in one place.

Every stage reads and writes these tables; docs/tables.md describes each column. A table's
``links`` say which of its columns point at rows of another table: ``intentkg lineage`` follows
them to walk from any row back to the inputs it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

# Provenance columns carried by every table built from input files.
SOURCE_FIELDS = [
    pa.field("source", pa.string(), nullable=False),  # reader name: esci, instacart, generic, ...
    pa.field("source_file", pa.string(), nullable=False),  # path as given by the user
    pa.field("source_row", pa.int64(), nullable=False),  # CSV/JSONL line, Parquet 1-based row (first one for aggregates)
]

PRODUCTS = pa.schema(
    [
        pa.field("product_id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("category", pa.string()),
        pa.field("product_type", pa.string()),
        pa.field("brand", pa.string()),
        pa.field("description", pa.string()),
        pa.field("bullets", pa.string()),
        pa.field("color", pa.string()),
        pa.field("locale", pa.string()),
        *SOURCE_FIELDS,
    ]
)

BEHAVIOR_KINDS = ("co_buy", "search_buy")

BEHAVIORS = pa.schema(
    [
        pa.field("behavior_id", pa.string(), nullable=False),  # stable hash of kind, left, right
        pa.field("kind", pa.string(), nullable=False),  # co_buy | search_buy
        pa.field("left", pa.string(), nullable=False),  # product_id (co_buy) or scrubbed query
        pa.field("right", pa.string(), nullable=False),  # product_id
        pa.field("left_text", pa.string(), nullable=False),  # left title, or the query
        pa.field("right_text", pa.string(), nullable=False),  # right title
        pa.field("support", pa.int64(), nullable=False),  # orders / purchases behind the pair
        pa.field("clicks", pa.int64()),  # search_buy only, when the log has it
        pa.field("impressions", pa.int64()),
        pa.field("category", pa.string()),  # category of the right product
        pa.field("pii_redactions", pa.int32(), nullable=False),  # PII spans removed from the query
        *SOURCE_FIELDS,
    ]
)

PARSE_STATUSES = ("ok", "empty", "truncated", "unparseable")

CANDIDATES = pa.schema(
    [
        pa.field("candidate_id", pa.string(), nullable=False),
        pa.field("behavior_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("head", pa.string(), nullable=False),  # behaviour text the tail explains
        pa.field("relation", pa.string(), nullable=False),
        pa.field("tail", pa.string()),  # null when nothing parsed
        pa.field("position", pa.int32(), nullable=False),  # item number in the answer list
        pa.field("raw_text", pa.string(), nullable=False),  # the model's whole answer, untouched
        pa.field("parse_status", pa.string(), nullable=False),
        pa.field("prompt_id", pa.string(), nullable=False),  # template name
        pa.field("template_version", pa.string(), nullable=False),
        pa.field("model_id", pa.string(), nullable=False),
        pa.field("model_hash", pa.string(), nullable=False),
        pa.field("request_key", pa.string(), nullable=False),  # request-cache key
        pa.field("sample", pa.int32(), nullable=False),  # which of the n samples
        pa.field("tail_logprob", pa.float64()),  # mean per-token log-prob of the tail, if known
        pa.field("tail_tokens", pa.int32()),
        pa.field("shown_examples", pa.list_(pa.string())),  # worked answers the prompt showed (few-shot)
        pa.field("head_type", pa.string()),  # type-level prompts: the product type the prompt named
    ]
)

SCORES = pa.schema(
    [
        pa.field("candidate_id", pa.string(), nullable=False),
        pa.field("rule_flags", pa.list_(pa.string()), nullable=False),  # reason codes
        pa.field("rule_details", pa.list_(pa.string()), nullable=False),  # human-readable reasons
        pa.field("completeness", pa.float64()),  # mean token log-likelihood of the tail
        pa.field("completeness_source", pa.string()),  # generation | the scoring model's file name
        pa.field("input_similarity", pa.float64()),  # cosine(tail, source text)
        pa.field("tail_cluster", pa.string()),  # normalised text of the tail's near-duplicate cluster
        pa.field("dup_of", pa.string()),  # candidate_id of the kept representative
        pa.field("dup_kind", pa.string()),  # exact | lexical | semantic (how dup_of matched)
        pa.field("dup_similarity", pa.float64()),  # exact n-gram Jaccard or cosine to the representative
        pa.field("dup_count", pa.int32(), nullable=False),  # duplicates folded into this row
        pa.field("plausibility", pa.float64()),
        pa.field("typicality", pa.float64()),
        pa.field("critic_id", pa.string()),
        pa.field("judge_score", pa.float64()),
        pa.field("judge_reason", pa.string()),
    ]
)

ANNOTATION_QUESTIONS = ("completeness", "relevance", "informativeness", "plausibility", "typicality")

ANNOTATIONS = pa.schema(
    [
        pa.field("candidate_id", pa.string(), nullable=False),
        pa.field("annotator", pa.string(), nullable=False),
        pa.field("role", pa.string(), nullable=False),  # annotator | resolver
        *[pa.field(q, pa.bool_()) for q in ANNOTATION_QUESTIONS],
        pa.field("batch", pa.string()),  # pilot | main | audit | active
        pa.field("created_at", pa.timestamp("ms", tz="UTC")),
    ]
)

# One row per annotated candidate: the final label after agreement and resolution (annotate stage).
LABELS = pa.schema(
    [
        pa.field("candidate_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("head", pa.string(), nullable=False),
        pa.field("relation", pa.string(), nullable=False),
        pa.field("tail", pa.string(), nullable=False),
        pa.field("category", pa.string()),
        pa.field("batch", pa.string()),
        pa.field("status", pa.string(), nullable=False),  # agreed | resolved | disputed | single | missing
        *[pa.field(q, pa.bool_()) for q in ANNOTATION_QUESTIONS],  # null: still disputed or unanswered
        pa.field("disagreed", pa.list_(pa.string()), nullable=False),  # questions the two annotators split on
        pa.field("annotators", pa.list_(pa.string()), nullable=False),
        pa.field("resolver", pa.string()),
    ]
)

NODE_KINDS = ("behavior", "product", "query", "category", "intention")

NODES = pa.schema(
    [
        pa.field("node_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("category", pa.string()),
        pa.field("parent_id", pa.string()),  # broader intention in the hierarchy
        pa.field("support", pa.int64(), nullable=False),
    ]
)

EDGES = pa.schema(
    [
        pa.field("edge_id", pa.string(), nullable=False),
        pa.field("head", pa.string(), nullable=False),  # node_id
        pa.field("relation", pa.string(), nullable=False),
        pa.field("tail", pa.string(), nullable=False),  # node_id
        pa.field("category", pa.string()),
        pa.field("plausibility", pa.float64()),
        pa.field("typicality", pa.float64()),
        pa.field("support", pa.int64(), nullable=False),
        pa.field("behavior_ids", pa.list_(pa.string()), nullable=False),
        pa.field("candidate_ids", pa.list_(pa.string()), nullable=False),
        pa.field("critic_id", pa.string()),
        pa.field("threshold", pa.float64()),
    ]
)

QUARANTINE = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("source_row", pa.int64()),  # file line (CSV/JSONL) or 1-based row (Parquet); null when unknown
        pa.field("column", pa.string()),
        pa.field("reason", pa.string(), nullable=False),  # short code: empty_title, bad_utf8, ...
        pa.field("detail", pa.string(), nullable=False),  # what is wrong and what to change
        pa.field("raw", pa.string()),  # the row as JSON text, truncated
    ]
)


@dataclass(frozen=True)
class TableSpec:
    """A table's schema, its key column and the columns that point at other tables."""

    name: str
    schema: pa.Schema
    key: str | None
    links: dict[str, tuple[str, str]] = field(default_factory=dict)


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in [
        TableSpec("products", PRODUCTS, "product_id"),
        TableSpec(
            "behaviors",
            BEHAVIORS,
            "behavior_id",
            links={"left": ("products", "product_id"), "right": ("products", "product_id")},
        ),
        TableSpec("candidates", CANDIDATES, "candidate_id", links={"behavior_id": ("behaviors", "behavior_id")}),
        TableSpec("scores", SCORES, "candidate_id", links={"candidate_id": ("candidates", "candidate_id")}),
        TableSpec("annotations", ANNOTATIONS, None, links={"candidate_id": ("candidates", "candidate_id")}),
        TableSpec("labels", LABELS, "candidate_id", links={"candidate_id": ("candidates", "candidate_id")}),
        TableSpec("nodes", NODES, "node_id"),
        TableSpec(
            "edges",
            EDGES,
            "edge_id",
            links={"candidate_ids": ("candidates", "candidate_id"), "behavior_ids": ("behaviors", "behavior_id")},
        ),
        TableSpec("quarantine", QUARANTINE, None),
    ]
}


def register_table(spec: TableSpec) -> None:
    """Let a plugin or later stage add its own table to the contract."""
    TABLES[spec.name] = spec


def empty_table(name: str) -> pa.Table:
    return TABLES[name].schema.empty_table()


def conform(table: pa.Table, name: str) -> pa.Table:
    """Reorder and cast ``table`` to the contract of ``name``; missing nullable columns become null.

    Raises ValueError naming the column when a required column is missing or cannot be cast.
    """
    schema = TABLES[name].schema
    arrays = []
    for f in schema:
        if f.name in table.column_names:
            col = table.column(f.name)
            try:
                col = col.cast(f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ValueError(f"table {name!r}: column {f.name!r} cannot be read as {f.type}: {exc}") from exc
            if not f.nullable and col.null_count:
                raise ValueError(f"table {name!r}: column {f.name!r} has {col.null_count} null values")
            arrays.append(col)
        elif f.nullable:
            arrays.append(pa.nulls(table.num_rows, f.type))
        else:
            raise ValueError(f"table {name!r}: required column {f.name!r} is missing")
    return pa.Table.from_arrays(arrays, schema=schema)
