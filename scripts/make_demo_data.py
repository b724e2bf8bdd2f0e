#!/usr/bin/env python
"""Generate the bundled intentkg demo dataset (src/intentkg/demo_data/).

    python scripts/make_demo_data.py            # write the files, print counts, refresh docs
    python scripts/make_demo_data.py --check    # regenerate in a temp dir and compare

Deterministic: every random choice comes from a `random.Random` seeded with SEED and a section
name, and nothing iterates over a set, so the output is identical on every run and machine.
Needs only the standard library and pyarrow. The vocabulary and the hidden intent model live in
scripts/demo_vocabulary.py; docs/demo-data.md explains the files and the labelling rules.
"""
from __future__ import annotations

import argparse
import csv
import filecmp
import json
import random
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import demo_vocabulary as V  # noqa: E402

SEED = 20240611
REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "src" / "intentkg" / "demo_data"
DEFAULT_DOCS = REPO / "docs" / "demo-data.md"
ESCI_QUERIES = 260  # queries in the ESCI-format files
ESCI_WEIGHTS = {"E": 0.60, "S": 0.14, "C": 0.10, "I": 0.16}  # drawn per slot; pool limits skew the result
CO_BUY_PAIRS = {"intent": 780, "complement": 130, "hub": 40, "noise": 50}
CANDIDATES = 500
KIND_WEIGHTS = {"good": 0.38, "atypical": 0.12, "echo": 0.08, "generic": 0.10, "incomplete": 0.10,
                "implausible": 0.22}
QUESTIONS = ("completeness", "relevance", "informativeness", "plausibility", "typicality")
GOLD = {  # kind -> answers to the five questions, before annotator noise
    "good": (1, 1, 1, 1, 1), "atypical": (1, 1, 1, 1, 0), "echo": (1, 1, 0, 1, 0),
    "generic": (1, 0, 0, 0, 0), "incomplete": (0, 0, 0, 0, 0), "implausible": (1, 0, 1, 0, 0),
}
FLIP = {"ann1": 0.055, "ann2": 0.065}  # per-question chance that an annotator departs from gold
FUNCTION_WORDS = {"a", "an", "the", "in", "for", "with", "to", "of", "on", "their", "at"}
ESCI_EXAMPLE_SCHEMA = pa.schema([
    ("example_id", pa.int64()), ("query", pa.string()), ("query_id", pa.int64()),
    ("product_id", pa.string()), ("product_locale", pa.string()), ("esci_label", pa.string()),
    ("small_version", pa.int64()), ("large_version", pa.int64()), ("split", pa.string()),
])
ESCI_PRODUCT_SCHEMA = pa.schema([
    ("product_id", pa.string()), ("product_title", pa.string()), ("product_description", pa.string()),
    ("product_bullet_point", pa.string()), ("product_brand", pa.string()),
    ("product_color", pa.string()), ("product_locale", pa.string()),
])
FILES = ("products.csv", "co_buy.csv", "search_log.csv", "annotated_candidates.jsonl",
         "esci/shopping_queries_dataset_examples.parquet", "esci/shopping_queries_dataset_products.parquet")


def rng_for(section: str) -> random.Random:
    return random.Random(f"intentkg-demo-{SEED}-{section}")


def wsample(rng: random.Random, items: list, weights: list[float], k: int) -> list:
    """Weighted sample without replacement (Efraimidis-Spirakis), order by key."""
    keyed = sorted(((rng.random() ** (1.0 / w), i) for i, w in enumerate(weights)), reverse=True)
    return [items[i] for _, i in keyed[:k]]


# --------------------------------------------------------------------------- model lookups
INTENTS = {i.key: i for i in V.INTENTS}
SPECS = {s.name: (cat, s) for cat, specs in V.TYPES.items() for s in specs}


def _pairs_to_map(pairs):
    out: dict[str, list[str]] = {}
    for a, b in pairs:
        out.setdefault(a, []).append(b)
        out.setdefault(b, []).append(a)
    return out


COMPLEMENTS = _pairs_to_map(V.COMPLEMENTS)
SUBSTITUTES = _pairs_to_map(V.SUBSTITUTES)


def validate_model() -> None:
    """Fail early, naming the offending entry, if the vocabulary is inconsistent."""
    served = {t for i in V.INTENTS for t in i.types}
    for i in V.INTENTS:
        assert i.relation in V.RELATIONS, f"intent {i.key}: unknown relation {i.relation}"
        for t in i.types + i.core:
            assert t in SPECS, f"intent {i.key}: unknown product type {t!r}"
        assert set(i.core) <= set(i.types), f"intent {i.key}: core types must be among its types"
        for q in i.queries:
            if "=>" in q:
                bad = set(V.opts(q.split("=>")[1])) - set(i.types)
                assert not bad, f"intent {i.key}: query {q!r} names types it does not serve: {bad}"
    for name in SPECS:
        assert name in served, f"product type {name!r} serves no intent"
    for a, b in V.COMPLEMENTS + V.SUBSTITUTES:
        assert a in SPECS and b in SPECS, f"unknown type in pair {(a, b)}"
    for name in list(V.ATYPICAL) + [t for _, t in V.PII_QUERIES]:
        assert name in SPECS, f"unknown type {name!r}"


# --------------------------------------------------------------------------- products
@dataclass
class Product:
    product_id: str
    title: str
    category: str
    product_type: str
    brand: str
    description: str
    bullets: list[str]
    color: str
    attrs: tuple[str, ...]
    lead: str
    intents: tuple[str, ...]
    popularity: float = 1.0

    @property
    def noun(self) -> str:
        return SPECS[self.product_type][1].noun


def make_title(rng, brand, line, lead, noun, tails, size, color) -> str:
    pattern = rng.randrange(3)
    head = [brand, line if pattern != 1 else "", lead if pattern != 2 else "", noun]
    extras = []
    for t in tails:  # "for iPhone 15" reads as part of the name, not as a feature
        (head if t.split()[0] in ("for", "with") else extras).append(t)
    head_text = " ".join(x for x in head if x)
    if pattern == 1:
        return head_text + (" - " + ", ".join(extras) if extras else "") + (f" ({size})" if size else "")
    if pattern == 2:
        extras = ([lead] if lead else []) + extras
        if color.lower() not in " ".join([head_text] + extras).lower():
            extras.append(color)
    return ", ".join([head_text] + extras + ([size] if size else []))


def build_products() -> list[Product]:
    rng = rng_for("products")
    n_intents = Counter(t for i in V.INTENTS for t in i.types)
    plan = [(cat, spec, 3 + min(2, n_intents[spec.name])) for cat, specs in V.TYPES.items() for spec in specs]
    ids = rng.sample(range(1_000_000, 10_000_000), sum(n for _, _, n in plan))
    products, titles = [], set()
    for cat, spec, n in plan:
        brands = list(V.BRANDS[cat].items())
        chosen = rng.sample(brands, min(n, len(brands)))
        chosen += [rng.choice(brands) for _ in range(n - len(chosen))]
        leads = list(spec.lead)
        rng.shuffle(leads)
        closings = V.opts(V.CLOSINGS[cat])
        for k, (brand, lines) in enumerate(chosen):
            for _attempt in range(20):
                line = rng.choice(V.opts(lines))
                lead = leads[k % len(leads)] if leads else ""
                n_tails = 1 if spec.one_tail else rng.choice((1, 2))
                tails = rng.sample(spec.tail, min(len(spec.tail), n_tails)) if spec.tail else []
                size = rng.choice(spec.size) if spec.size else ""
                color = rng.choice(spec.color)
                title = make_title(rng, brand, line, lead, spec.noun, tails, size, color)
                if title not in titles:
                    break
            titles.add(title)
            attrs = tuple(a for a in (lead, *tails, size) if a)
            intents = tuple(i.key for i in V.INTENTS if spec.name in i.types
                             and not any(i.key in spec.excl.get(a, ()) for a in attrs))
            bullets = rng.sample(spec.bullets, rng.randint(2, min(4, len(spec.bullets))))
            assert intents, f"{title!r}: its attributes rule out every intent of {spec.name!r}"
            products.append(Product(f"IKG{ids[len(products)]:07d}", title, cat, spec.name, brand,
                                    f"{spec.desc} {rng.choice(closings)}", bullets, color, attrs, lead, intents))
    order = list(range(len(products)))
    rng.shuffle(order)  # popularity is Zipf-like over a random ranking
    for rank, idx in enumerate(order):
        products[idx].popularity = 1.0 / (rank + 1) ** 0.6
    return products


# --------------------------------------------------------------------------- queries and labels
@dataclass
class Query:
    text: str
    kind: str  # intent | typed | attribute | brand | pii
    intent: str | None
    core: tuple[str, ...]
    attr: str | None = None
    brand: str | None = None


def normalize_query(text: str) -> str:
    return " ".join(text.lower().replace("°f", " degree").replace(",", " ").split())


def build_queries(products: list[Product]) -> list[Query]:
    rng = rng_for("queries")
    queries: list[Query] = []
    seen: set[str] = set()

    def add(q: Query) -> None:
        if q.text not in seen:
            seen.add(q.text)
            queries.append(q)

    for intent in V.INTENTS:
        for raw in intent.queries:
            text, _, core = raw.partition("=>")
            add(Query(text.strip(), "intent", intent.key, V.opts(core) or intent.core))
    for intent in V.INTENTS:  # "<type> <phrase>" queries, e.g. "sleeping bag for winter camping"
        for t in rng.sample(intent.core, min(len(intent.core), rng.choice((1, 1, 2)))):
            prefix = rng.choice(("", "", "", "best "))
            add(Query(f"{prefix}{t} {intent.phrase}", "typed", intent.key, (t,)))
    by_type: dict[str, list[Product]] = {}
    for p in products:
        by_type.setdefault(p.product_type, []).append(p)
    for t, ps in by_type.items():
        r = rng.random()
        with_lead = [p for p in ps if p.lead]
        if r < 0.5 and with_lead:
            p = rng.choice(with_lead)
            add(Query(normalize_query(f"{p.lead} {t}"), "attribute", None, (t,), attr=p.lead))
        elif r < 0.75:
            p = rng.choice(ps)
            add(Query(normalize_query(f"{p.brand} {t}"), "brand", None, (t,), brand=p.brand))
    return queries


def label(q: Query, p: Product) -> str:
    """ESCI label of product p for query q, from the hidden intent model."""
    core = q.core
    if q.intent is None:  # attribute and brand queries name a product type
        if p.product_type in core:
            if q.attr and p.lead != q.attr or q.brand and p.brand != q.brand:
                return "S"
            return "E"
    elif p.product_type in core:
        return "E" if q.intent in p.intents else "S"  # S: right type, wrong attribute
    if any(p.product_type in SUBSTITUTES.get(t, ()) for t in core):
        return "S"
    if any(p.product_type in COMPLEMENTS.get(t, ()) for t in core):
        return "C"  # used with an exact match (even if it also serves the intent)
    if q.intent is not None and q.intent in p.intents:
        return "S"  # serves the same intent with a different type
    return "I"


def label_pools(q: Query, products: list[Product]) -> dict[str, list[Product]]:
    pools: dict[str, list[Product]] = {"E": [], "S": [], "C": [], "I": []}
    for p in products:
        pools[label(q, p)].append(p)
    return pools


# --------------------------------------------------------------------------- ESCI files
def build_esci(queries: list[Query], products: list[Product]):
    rng = rng_for("esci")
    by_kind: dict[str, list[Query]] = {}
    for q in queries:
        by_kind.setdefault(q.kind, []).append(q)
    share = {"intent": 0.64, "typed": 0.2, "attribute": 0.1, "brand": 0.06}
    chosen: list[tuple[Query, str]] = []
    for kind, frac in share.items():
        featured = [q for q in by_kind[kind] if q.text in V.FEATURED_QUERIES]
        rest = [q for q in by_kind[kind] if q.text not in V.FEATURED_QUERIES]
        qs = featured + rng.sample(rest, min(len(rest), round(ESCI_QUERIES * frac) - len(featured)))
        rng.shuffle(qs)
        n_train = round(len(qs) * 0.75)  # split by query, stratified by query kind
        chosen += [(q, "train" if k < n_train else "test") for k, q in enumerate(qs)]
    rng.shuffle(chosen)
    pools = [label_pools(q, products) for q, _ in chosen]
    with_c = sum(1 for p in pools if p["C"]) / len(pools)
    weights = dict(ESCI_WEIGHTS, C=min(0.35, ESCI_WEIGHTS["C"] / with_c))  # C only where C exists
    spill = {"E": "SI", "S": "EI", "C": "SI", "I": "I"}
    examples = []
    for qid, ((q, split), pool) in enumerate(zip(chosen, pools)):
        want = Counter(rng.choices(list(weights), weights=[weights[k] if pool[k] else 0 for k in weights],
                                   k=rng.randint(8, 12)))
        take: Counter = Counter()
        for lab in "ESCI":  # a label whose pool runs dry passes its slots on (spill order)
            n = want[lab]
            for s in lab + spill[lab]:
                got = min(n, len(pool[s]) - take[s])
                take[s] += got
                n -= got
        small = 1 if q.kind in ("intent", "typed") or rng.random() < 0.3 else 0
        rows = []
        for lab in "ESCI":
            ps = pool[lab]
            w = [p.popularity ** 0.5 * (5.0 if lab == "I" and any(p.category == SPECS[t][0] for t in q.core) else 1.0)
                 for p in ps]  # I: prefer hard negatives from the same category
            rows += [(p, lab) for p in wsample(rng, ps, w, take[lab])]
        rng.shuffle(rows)
        for p, lab in rows:
            examples.append({"example_id": len(examples), "query": q.text, "query_id": qid,
                             "product_id": p.product_id, "product_locale": "us", "esci_label": lab,
                             "small_version": small, "large_version": 1, "split": split})
    return examples


# --------------------------------------------------------------------------- search log
RATES = {  # label -> (click-through range, purchase-per-click range)
    "E": ((0.06, 0.30), (0.10, 0.45)), "S": ((0.03, 0.15), (0.05, 0.25)),
    "C": ((0.01, 0.06), (0.02, 0.15)), "I": ((0.002, 0.02), (0.0, 0.08)),
}


def _draw(rng, n: int, rate: float) -> int:
    mean = n * rate
    return max(0, min(n, round(rng.gauss(mean, (mean * (1 - rate)) ** 0.5))))


def search_metrics(rng, lab: str) -> tuple[int, int, int]:
    (c0, c1), (b0, b1) = RATES[lab]
    impressions = 20 + int(rng.lognormvariate(4.6, 1.0))
    clicks = _draw(rng, impressions, rng.uniform(c0, c1))
    purchases = _draw(rng, clicks, rng.uniform(b0, b1))
    return impressions, clicks, purchases


def build_search_log(queries: list[Query], products: list[Product]):
    rng = rng_for("search")
    order = list(queries)
    rng.shuffle(order)
    rows, used = [], []  # used: (query, product, label) for rows with a purchase
    for q in order:
        pool = label_pools(q, products)
        picks = [("E", rng.randint(1, 3)), ("S", int(rng.random() < 0.6)), ("C", int(rng.random() < 0.2)),
                 ("I", int(rng.random() < 0.3))]
        for lab, k in picks:
            for p in wsample(rng, pool[lab], [p.popularity for p in pool[lab]], k):
                imp, clk, buy = search_metrics(rng, lab)
                if lab == "E":
                    clk, buy = max(clk, 1), max(buy, 1)  # the query led to this purchase
                rows.append({"query": q.text, "product_id": p.product_id, "impressions": imp,
                             "clicks": clk, "purchases": buy})
                if buy:
                    used.append((q, p, lab))
    for text, t in V.PII_QUERIES:  # dirty rows that ingest must scrub
        ps = [p for p in products if p.product_type == t]
        for p in wsample(rng, ps, [p.popularity for p in ps], rng.randint(1, 2)):
            imp, clk, buy = search_metrics(rng, "E")
            rows.insert(rng.randrange(len(rows) + 1), {"query": text, "product_id": p.product_id, "impressions": imp,
                                                       "clicks": max(clk, 1), "purchases": max(buy, 1)})
    return rows, used


# --------------------------------------------------------------------------- co-buy pairs
def long_tail(rng, scale: float) -> int:
    return max(1, min(5000, int(scale * rng.paretovariate(1.15))))


def build_co_buy(products: list[Product]):
    rng = rng_for("co_buy")
    pairs: dict[tuple[str, str], dict] = {}
    by_id = {p.product_id: p for p in products}

    def add(a: Product, b: Product, kind: str, support: int) -> bool:
        key = tuple(sorted((a.product_id, b.product_id)))
        if a.product_id == b.product_id or key in pairs:
            return False
        pairs[key] = {"left": key[0], "right": key[1], "support": support, "kind": kind,
                      "shared": tuple(i for i in by_id[key[0]].intents if i in by_id[key[1]].intents)}
        return True

    serving = {i.key: [p for p in products if i.key in p.intents] for i in V.INTENTS}
    keys = [k for k in serving if len({p.product_type for p in serving[k]}) > 1]
    n = 0
    while n < CO_BUY_PAIRS["intent"]:  # two products that serve the same intent
        ps = serving[rng.choices(keys, weights=[len(serving[k]) for k in keys])[0]]
        a, b = wsample(rng, ps, [p.popularity for p in ps], 2)
        if a.product_type != b.product_type:
            n += add(a, b, "intent", long_tail(rng, 1 + 4 * (a.popularity * b.popularity) ** 0.5))
    by_type: dict[str, list[Product]] = {}
    for p in products:
        by_type.setdefault(p.product_type, []).append(p)
    n = 0
    while n < CO_BUY_PAIRS["complement"]:  # bought to be used together
        ta, tb = rng.choice(V.COMPLEMENTS)
        a, b = rng.choice(by_type[ta]), rng.choice(by_type[tb])
        n += add(a, b, "complement", long_tail(rng, 2 + 6 * (a.popularity * b.popularity) ** 0.5))
    hubs = sorted(by_type["aa batteries"], key=lambda p: -p.popularity)[:2]
    n = 0
    while n < CO_BUY_PAIRS["hub"]:  # batteries land in every kind of basket
        other = rng.choice(products)
        if not set(other.intents) & set(hubs[0].intents):
            n += add(hubs[n % 2], other, "hub", rng.randint(1, 12))
    n = 0
    while n < CO_BUY_PAIRS["noise"]:  # random baskets
        a, b = rng.sample(products, 2)
        related = set(a.intents) & set(b.intents) or b.product_type in COMPLEMENTS.get(a.product_type, ())
        if not related:
            n += add(a, b, "noise", 1)
    out = list(pairs.values())
    rng.shuffle(out)
    return out


# --------------------------------------------------------------------------- annotated candidates
def truncate(tail: str) -> str | None:
    words = tail.split()
    cut = [k for k, w in enumerate(words[:-1]) if w in FUNCTION_WORDS and k >= 1]
    return " ".join(words[: cut[-1] + 1]) if cut else None  # "camping in cold weather" -> "camping in"


def build_candidates(products, co_buy, used_search):
    rng = rng_for("annotations")
    by_id = {p.product_id: p for p in products}
    co = [("co_buy", [by_id[r["left"]], by_id[r["right"]]], None, r) for r in co_buy]
    se = [("search_buy", [p], q, lab) for q, p, lab in used_search]

    def tail_of(intent_key: str) -> tuple[str, str]:
        i = INTENTS[intent_key]
        return i.relation, i.tails[0] if rng.random() < 0.6 else rng.choice(i.tails)

    def make(kind, beh):
        bk, ps, q, extra = beh
        if kind == "good":
            if bk == "co_buy":
                shared = extra["shared"]
                return tail_of(rng.choice(shared)) if shared else None
            if q.intent and q.intent in ps[0].intents:
                return tail_of(q.intent)
            if q.intent is None and extra == "E" and ps[0].intents:
                return tail_of(rng.choice(ps[0].intents))
            return None
        if kind == "atypical":
            hits = [p.product_type for p in ps if p.product_type in V.ATYPICAL]
            return V.ATYPICAL[rng.choice(hits)] if hits else None
        if kind == "echo":
            p = rng.choice(ps)
            noun = p.noun.lower()
            options = [("is_a", p.product_type), ("is_a", noun if noun.endswith("s") else f"a {noun}")]
            if bk == "co_buy":
                options.append(("is_a", f"{ps[0].product_type} and {ps[1].product_type}"))
            else:
                options.append(("used_for_function", q.text))
            return rng.choice(options)
        if kind == "generic":
            return rng.choice(V.GENERIC)
        if kind == "incomplete":
            own = [k for p in ps for k in p.intents]
            if own and rng.random() < 0.5:
                rel, tail = tail_of(rng.choice(own))
                cut = truncate(tail)
                if cut:
                    return rel, cut
            return rng.choice(V.INCOMPLETE)
        # implausible: an intent from an unrelated part of the model
        if rng.random() < 0.15:
            return rng.choice(V.ABSURD)
        parents = {INTENTS[k].parent for p in ps for k in p.intents}
        types = {p.product_type for p in ps}
        far = [i for i in V.INTENTS if i.parent not in parents and not types & set(i.types)]
        return tail_of(rng.choice(far).key)

    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    atypical_behaviors: dict[str, list] = {}  # type -> behaviours with such a product
    for b in co + se:
        for t in sorted({p.product_type for p in b[1]} & set(V.ATYPICAL)):
            atypical_behaviors.setdefault(t, []).append(b)
    atypical_types = sorted(atypical_behaviors)
    lines, seen = [], set()
    while len(seen) < CANDIDATES:
        kind = rng.choices(kinds, weights)[0]
        if kind == "atypical":  # pick the type first so hub products do not dominate
            beh = rng.choice(atypical_behaviors[rng.choice(atypical_types)])
        else:
            beh = rng.choice(co if rng.random() < 0.5 else se)
        rt = make(kind, beh)
        if rt is None:
            continue
        bk, ps, q, _ = beh
        head = q.text if q else " || ".join(p.title for p in ps)
        key = (bk, head, rt)
        if key in seen:
            continue
        seen.add(key)
        cid = f"cand-{len(seen):05d}"
        for annotator, flip in FLIP.items():
            answers = {name: bool(g) != (rng.random() < flip) for name, g in zip(QUESTIONS, GOLD[kind])}
            lines.append({"candidate_id": cid, "behavior_kind": bk, "head_text": head,
                          "product_ids": [p.product_id for p in ps], "relation": rt[0], "tail": rt[1],
                          "annotator": annotator, **answers})
    return lines


# --------------------------------------------------------------------------- writing
def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def generate(out: Path) -> None:
    validate_model()
    products = build_products()
    queries = build_queries(products)
    examples = build_esci(queries, products)
    search_rows, used = build_search_log(queries, products)
    co_buy = build_co_buy(products)
    candidates = build_candidates(products, co_buy, used)

    (out / "esci").mkdir(parents=True, exist_ok=True)
    write_csv(out / "products.csv",
              ["product_id", "title", "category", "product_type", "brand", "description", "bullets", "color", "locale"],
              [[p.product_id, p.title, p.category, p.product_type, p.brand, p.description, " | ".join(p.bullets),
                p.color, "us"] for p in products])
    write_csv(out / "co_buy.csv", ["left_product_id", "right_product_id", "support"],
              [[r["left"], r["right"], r["support"]] for r in co_buy])
    write_csv(out / "search_log.csv", ["query", "product_id", "impressions", "clicks", "purchases"],
              [[r["query"], r["product_id"], r["impressions"], r["clicks"], r["purchases"]] for r in search_rows])
    with (out / "annotated_candidates.jsonl").open("w", encoding="utf-8", newline="\n") as f:
        for line in candidates:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    pq.write_table(pa.Table.from_pylist(examples, schema=ESCI_EXAMPLE_SCHEMA),
                   out / "esci" / "shopping_queries_dataset_examples.parquet", compression="snappy")
    esci_products = [{"product_id": p.product_id, "product_title": p.title, "product_description": p.description,
                      "product_bullet_point": "\n".join(p.bullets), "product_brand": p.brand,
                      "product_color": p.color, "product_locale": "us"} for p in products]
    pq.write_table(pa.Table.from_pylist(esci_products, schema=ESCI_PRODUCT_SCHEMA),
                   out / "esci" / "shopping_queries_dataset_products.parquet", compression="snappy")


# --------------------------------------------------------------------------- counts and docs
def summarize(out: Path) -> dict:
    """Counts read back from the written files (also used by the tests and the docs table)."""
    with (out / "products.csv").open(encoding="utf-8", newline="") as f:
        products = list(csv.DictReader(f))
    with (out / "co_buy.csv").open(encoding="utf-8", newline="") as f:
        co = list(csv.DictReader(f))
    with (out / "search_log.csv").open(encoding="utf-8", newline="") as f:
        search = list(csv.DictReader(f))
    with (out / "annotated_candidates.jsonl").open(encoding="utf-8") as f:
        ann = [json.loads(line) for line in f]
    ex = pq.read_table(out / "esci" / "shopping_queries_dataset_examples.parquet").to_pylist()
    esci_p = pq.read_table(out / "esci" / "shopping_queries_dataset_products.parquet").num_rows
    labels = Counter(r["esci_label"] for r in ex)
    split_q = Counter(split for _, split in {(r["query_id"], r["split"]) for r in ex})
    cands = {}
    for a in ann:
        cands.setdefault(a["candidate_id"], []).append(a)
    disagree = {q: sum(v[0][q] != v[1][q] for v in cands.values()) / len(cands) for q in QUESTIONS}
    size = sum((out / f).stat().st_size for f in FILES)
    return {
        "products": len(products), "categories": len({p["category"] for p in products}),
        "product_types": len({p["product_type"] for p in products}), "brands": len({p["brand"] for p in products}),
        "co_buy_pairs": len(co), "co_buy_support_max": max(int(r["support"]) for r in co),
        "co_buy_support_1": sum(r["support"] == "1" for r in co),
        "search_rows": len(search), "search_queries": len({r["query"] for r in search}),
        "search_rows_with_purchase": sum(int(r["purchases"]) > 0 for r in search),
        "search_rows_low_rate": sum(r["purchases"] == "0" or int(r["clicks"]) < 0.02 * int(r["impressions"])
                                    for r in search),
        "pii_queries": len(V.PII_QUERIES),
        "esci_examples": len(ex), "esci_queries": len({r["query_id"] for r in ex}), "esci_products": esci_p,
        "esci_labels": {k: labels[k] for k in "ESCI"},
        "esci_train_queries": split_q["train"], "esci_test_queries": split_q["test"],
        "annotation_lines": len(ann), "candidates": len(cands),
        "candidates_by_behavior": dict(sorted(Counter(v[0]["behavior_kind"] for v in cands.values()).items())),
        "plausible_rate": round(sum(a["plausibility"] for a in ann) / len(ann), 3),
        "typical_rate": round(sum(a["typicality"] for a in ann) / len(ann), 3),
        "disagreement": {q: round(d, 3) for q, d in disagree.items()},
        "bytes": size,
    }


def count_table(s: dict) -> str:
    lab = s["esci_labels"]
    n = s["esci_examples"]
    pct = ", ".join(f"{k} {v} ({100 * v / n:.0f}%)" for k, v in lab.items())
    dis = ", ".join(f"{q} {100 * d:.0f}%" for q, d in s["disagreement"].items())
    rows = [
        ("products.csv", s["products"], f"{s['categories']} categories, {s['product_types']} product types, "
                                        f"{s['brands']} invented brands"),
        ("co_buy.csv", s["co_buy_pairs"], f"distinct pairs; support 1..{s['co_buy_support_max']}, "
                                          f"{s['co_buy_support_1']} pairs with support 1"),
        ("search_log.csv", s["search_rows"], f"{s['search_queries']} distinct queries, "
                                             f"{s['search_rows_with_purchase']} rows with a purchase, "
                                             f"{s['search_rows_low_rate']} with no purchase or CTR < 2%, "
                                             f"{s['pii_queries']} queries with PII"),
        ("esci/…_examples.parquet", n, f"{s['esci_queries']} queries ({s['esci_train_queries']} train / "
                                       f"{s['esci_test_queries']} test); {pct}"),
        ("esci/…_products.parquet", s["esci_products"], "the same catalogue in the ESCI product schema"),
        ("annotated_candidates.jsonl", s["annotation_lines"],
         f"{s['candidates']} candidates x 2 annotators ({', '.join(f'{k} {v}' for k, v in s['candidates_by_behavior'].items())}); "
         f"plausible {100 * s['plausible_rate']:.0f}%, typical {100 * s['typical_rate']:.0f}%; "
         f"disagreement {dis}"),
    ]
    lines = ["| file | rows | notes |", "|---|---:|---|"]
    lines += [f"| `{f}` | {r} | {note} |" for f, r, note in rows]
    lines.append(f"| total on disk | {s['bytes'] / 1e6:.1f} MB | |")
    return "\n".join(lines)


START, END = "<!-- demo-data-counts:start -->", "<!-- demo-data-counts:end -->"


def update_docs(path: Path, table: str) -> bool:
    if not path.exists():
        return False
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return False
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    path.write_text(f"{before}{START}\n{table}\n{END}{after}", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--docs", type=Path, default=DEFAULT_DOCS, help="doc whose count table to refresh")
    ap.add_argument("--no-docs", action="store_true", help="do not touch the docs")
    ap.add_argument("--check", action="store_true", help="regenerate in a temp dir and compare with --out")
    args = ap.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp))
            bad = [f for f in FILES if not (args.out / f).exists() or not filecmp.cmp(Path(tmp) / f, args.out / f, shallow=False)]
        if bad:
            print("demo data differs from a fresh run: " + ", ".join(bad), file=sys.stderr)
            return 1
        print("demo data is up to date")
        return 0
    generate(args.out)
    table = count_table(summarize(args.out))
    print(table)
    if not args.no_docs and update_docs(args.docs, table):
        print(f"refreshed the count table in {args.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
