"""Product-side knowledge from the catalogue alone: no behaviour, no query, no label.

    run_catalogue("ws", CatalogueConfig(types=600))   # -> ws/catalogue/facts.parquet
    catalogue_facts("ws")                             # -> {product_id: [Fact, ...]}

Every product of the workspace's catalogue (``ingest/products``; ingest with ``--all-products`` to
keep those without a logged behaviour) can get knowledge, as production would have it for a new
product. The cost grows with *types*, not products:

1. products are grouped into types: their ``product_type`` where the catalogue has one, else
   clusters of their titles by embedding (k-means over the bundled MiniLM, at most ``types``
   clusters, seeded); the member nearest a cluster's centre is its representative;
2. one prompt per (type, relation), through the real generate stage on a scratch workspace
   (``<ws>/.cache/catalogue``) with a copy of the workspace's template whose search behaviour reads
   ``A customer bought "<title>".`` (the type's name, or its representative's title); answers go
   through that scratch workspace's request cache, so a re-run costs nothing;
3. the filter stage with the workspace's filter configuration and operating point;
4. each kept tail becomes a :class:`~intentkg.knowledge.facts.Fact` (source ``product_catalogue``)
   for every product of the type, score = ``plausibility * (1 + ln samples agreeing)`` times the
   product's cosine to the representative (1 for a named type); with several samples per prompt
   (the generate config's ``sampling.n``) ``min_agreement`` keeps only the tails that many samples agree on.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from intentkg.errors import IntentkgError
from intentkg.kg.canonical import canonical
from intentkg.knowledge.facts import Fact, best_first
from intentkg.knowledge.scratch import generate_and_filter, kept_tails, variant_template
from intentkg.schemas import conform
from intentkg.workspace import Workspace

STAGE = "catalogue"
SOURCE = "product_catalogue"
PRODUCT_ONLY_BEHAVIOR = 'A customer bought "{right}".'
SCRATCH = Path(".cache") / "catalogue"
FACTS = pa.schema([
    pa.field("product_id", pa.string(), nullable=False), pa.field("relation", pa.string(), nullable=False),
    pa.field("intention", pa.string(), nullable=False), pa.field("intention_id", pa.string(), nullable=False),
    pa.field("score", pa.float64(), nullable=False), pa.field("type_id", pa.string(), nullable=False),
    pa.field("type_text", pa.string(), nullable=False),
])


class CatalogueConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    types: int | None = Field(600, ge=1, description="at most this many title clusters (one prompt each per "
                                                     "relation); None: one per product")
    relations: list[str] = Field(["used_for_function", "used_for_audience"],
                                 description="relations asked about each type")
    description_chars: int = Field(0, ge=0, description="description characters added to the prompt text")
    min_agreement: int = Field(1, ge=1, description="keep a type's tail only when at least this many of its "
                                                    "samples agree (with the generate config's sampling.n > 1)")
    embedder: str = "all-MiniLM-L6-v2"
    seed: int = 0
    on_demand_config: str | None = Field(None, description="YAML with generate:/filter: sections (as for "
                                                          "on-demand knowledge); default: the workspace's own")


def behavior_id(type_id: str) -> str:
    return hashlib.md5(f"catalogue\x1f{type_id}".encode()).hexdigest()[:16]


def product_only_template(name: str, folder: Path) -> Path:
    """A copy of template ``name`` (packaged or a path) whose search behaviour names only the product."""
    return variant_template(name, folder, PRODUCT_ONLY_BEHAVIOR, "product_only")


def group_types(products: pa.Table, config: CatalogueConfig, embed=None) -> dict[str, Any]:
    """Types of the products: ``{"type_of": [type id per product], "similarity": [cosine to the
    representative], "text": {type id: prompt text}, "clustered": n products clustered}``."""
    ids = [str(p) for p in products.column("product_id").to_pylist()]
    titles = [" ".join(str(t or "").split()) for t in products.column("title").to_pylist()]
    if config.description_chars and "description" in products.column_names:
        titles = [f"{t} ({' '.join(str(d).split())[:config.description_chars]})" if d else t
                  for t, d in zip(titles, products.column("description").to_pylist())]
    named = products.column("product_type").to_pylist() if "product_type" in products.column_names else [None] * len(ids)
    type_of, similarity, text = [""] * len(ids), [1.0] * len(ids), {}
    rest = []
    for i, kind in enumerate(named):
        key = canonical(kind) if kind else ""
        if key:
            type_of[i] = f"type:{key}"
            text.setdefault(type_of[i], " ".join(str(kind).split()))
        else:
            rest.append(i)
    if rest and (config.types is None or len(rest) <= config.types):
        for i in rest:
            type_of[i], text[f"product:{ids[i]}"] = f"product:{ids[i]}", titles[i]
    elif rest:
        from sklearn.cluster import MiniBatchKMeans

        if embed is None:
            from intentkg.embed import load_embedder

            embed = load_embedder(config.embedder).encode
        vectors = np.asarray(embed([titles[i] for i in rest]), dtype=np.float32)
        km = MiniBatchKMeans(n_clusters=config.types, random_state=config.seed, n_init=3, batch_size=2048)
        labels = km.fit_predict(vectors)
        for c in np.unique(labels):
            members = [rest[j] for j in np.flatnonzero(labels == c)]
            member_vectors = vectors[labels == c]
            centre = member_vectors.mean(axis=0)
            representative = members[int(np.argmax(member_vectors @ centre))]
            type_id = f"cluster:{ids[representative]}"
            text[type_id] = titles[representative]
            sims = member_vectors @ vectors[rest.index(representative)]
            for i, s in zip(members, sims):
                type_of[i], similarity[i] = type_id, float(min(1.0, max(0.0, s)))
    return {"type_of": type_of, "similarity": similarity, "text": text, "clustered": len(rest)}


def title_embedder(ws: Workspace, config: CatalogueConfig):
    """The clustering's embedder, through the workspace's embedding cache (loaded on first use): a
    re-run (another relation, another type budget) does not embed the catalogue's titles again
    (6,082 titles took 777 s of a 1,423 s catalogue run on esci-dev, on the busy machine)."""
    loaded: list = []

    def embed(texts: list[str]) -> np.ndarray:
        if not loaded:
            from intentkg.embed.cached import CachedEmbedder, cache_root

            loaded.append(CachedEmbedder(config.embedder, cache_root=cache_root(ws.root)))
        return loaded[0].embed(texts, "catalogue: product titles")
    return embed


def _ingest(scratch: Workspace, texts: dict[str, str]) -> None:
    rows = [{"behavior_id": behavior_id(t), "kind": "search_buy", "left": "", "right": t, "left_text": "",
             "right_text": text, "support": 1, "pii_redactions": 0, "source": "catalogue",
             "source_file": "catalogue", "source_row": i + 1} for i, (t, text) in enumerate(sorted(texts.items()))]
    with scratch.run("ingest", config={"catalogue_types": sorted(texts.items())}) as run:
        if not run.skipped:
            run.write("behaviors", conform(pa.Table.from_pylist(rows), "behaviors"))
            run.ensure("products")


def run_catalogue(workspace: str | Path | Workspace, config: CatalogueConfig | None = None, backend: Any = None,
                  force: bool = False, embed=None) -> dict:
    """Generate and filter product-side knowledge for every catalogue product; returns the counts."""
    from intentkg.knowledge.on_demand import _filter_config, _generate_config

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    config = config or CatalogueConfig()
    products = ws.read("ingest", "products")
    inputs: list[str | Path] = ["ingest", *(s for s in ("generate", "filter") if ws.manifest(s) is not None)]
    if config.on_demand_config:
        inputs.append(Path(config.on_demand_config))
    generate = _generate_config(ws, config.on_demand_config).model_copy(update={"relations": config.relations})
    if config.min_agreement > generate.sampling.n:
        raise IntentkgError(f"catalogue: min_agreement {config.min_agreement} is more than the "
                            f"{generate.sampling.n} sample(s) a prompt that generate.sampling.n gives "
                            f"({config.on_demand_config or 'the workspace config'}): raise sampling.n to at least "
                            f"{config.min_agreement} or lower --min-agreement")
    with ws.run(STAGE, config=config.model_dump(mode="json"), inputs=inputs, force=force) as run:
        if run.skipped:
            return dict(run.previous.counts) if run.previous else {}
        with run.time("types"):
            types = group_types(products, config, embed or title_embedder(ws, config))
        scratch = Workspace(ws.root / SCRATCH)
        filter_config = _filter_config(ws, config.on_demand_config)
        with run.time("generate_and_filter"):
            manifest = generate_and_filter(scratch, generate, filter_config, product_only_template,
                                           lambda: _ingest(scratch, types["text"]), backend)
        run.add_model("generator", manifest.models[0].model_id if manifest.models else generate.backend.model)
        by_type, tails = kept_tails(scratch, filter_config.thresholds, {behavior_id(t): t for t in types["text"]},
                                    config.min_agreement)
        ids = [str(p) for p in products.column("product_id").to_pylist()]
        rows = [{"product_id": pid, "relation": rel, "intention": tail, "intention_id": iid,
                 "score": score * sim, "type_id": t, "type_text": types["text"][t]}
                for pid, t, sim in zip(ids, types["type_of"], types["similarity"])
                for rel, tail, iid, score in by_type.get(t, [])]
        run.write("facts", pa.Table.from_pylist(rows, schema=FACTS) if rows else FACTS.empty_table())
        run.counts.update({"products": len(ids), "types": len(types["text"]), "clustered_products": types["clustered"],
                           "types_with_facts": sum(1 for t in types["text"] if by_type.get(t)),
                           "products_with_facts": len({r["product_id"] for r in rows}), "facts": len(rows),
                           "prompts": len(types["text"]) * len(config.relations),
                           "samples_per_prompt": generate.sampling.n, "tails_below_agreement": tails["below_agreement"]})
        return dict(run.counts)


def catalogue_facts(workspace: str | Path | Workspace, per_product: int = 20) -> dict[str, list[Fact]] | None:
    """Facts per product id from the catalogue stage, best first; None when the stage has not run."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    if ws.manifest(STAGE) is None:
        return None
    path = ws.table_path(STAGE, "facts")  # refuses a catalogue stage whose last run failed
    import pyarrow.parquet as pq

    out: dict[str, list[Fact]] = defaultdict(list)
    for row in pq.read_table(path).to_pylist():
        out[row["product_id"]].append(Fact(row["relation"], row["intention"], row["score"], SOURCE,
                                           row["intention_id"], row["type_text"]))
    return {pid: best_first(facts, per_product) for pid, facts in out.items()}
