"""Synthetic products, behaviours and candidates with the failure modes the filter must catch.

For tests and benchmarks (``bench/bench_filter_*.py``) when no generator output is at hand. Each
candidate is drawn from a mix: specific intents for the product type, their near-duplicate spellings,
generic tails ("everyday use"), circular reasons, echoes of the title or type, unfinished phrases,
parse failures and, for scale, open-vocabulary intents (verb + object + modifier) so the number of
distinct tails grows with the input like real generations do.
"""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa

from intentkg.schemas import BEHAVIORS, CANDIDATES, PRODUCTS, conform
from intentkg.workspace import Workspace
from intentkg.workspace.fingerprint import short_id

CATALOGUE = {
    "Camping": {"tent": ["winter camping", "backpacking trips", "music festivals", "family camping"],
                "sleeping bag": ["sleeping outdoors in cold weather", "scout camps", "keeping warm at night"],
                "camping stove": ["cooking at the campsite", "boiling water outdoors", "hiking trips"]},
    "Baby": {"swaddle blanket": ["helping a newborn sleep", "new parents", "keeping a baby warm"],
             "baby bottle": ["feeding a newborn", "bottle feeding at night", "daycare"],
             "stroller": ["walking with a toddler", "city trips with a baby", "jogging with a baby"]},
    "Office": {"office chair": ["working from home", "back pain relief", "long hours at a desk"],
               "desk lamp": ["reading at night", "late-night studying", "home office lighting"]},
    "Kitchen": {"chef knife": ["preparing vegetables", "home cooking", "meal prep"],
                "cast iron skillet": ["searing steak", "camp cooking", "baking cornbread"]},
    "Beauty": {"face moisturizer": ["dry face", "sensitive skin", "winter skin care"],
               "sunscreen": ["beach days", "outdoor sports", "protecting skin from sunburn"]},
    "Pets": {"dog leash": ["walk the dog", "training a puppy", "hiking with a dog"],
             "cat litter": ["indoor cats", "controlling odor", "multi-cat homes"]},
    "Sports": {"tennis racket": ["play tennis", "tennis lessons", "weekend matches"],
               "yoga mat": ["home yoga practice", "pilates classes", "stretching after runs"]},
    "Garden": {"garden hose": ["watering the lawn", "washing the car", "vegetable gardens"],
               "pruning shears": ["trimming roses", "shaping shrubs", "fruit tree care"]},
}
BRANDS = ["Trailblazer", "Summit", "Cozy", "Ergo", "Lumen", "Iron", "Glow", "Paws", "Ace", "Verde", "Nova", "Peak"]
ADJECTIVES = ["Deluxe", "Compact", "Premium", "Lightweight", "Classic", "Pro", "Essential", "Ultra"]
GENERIC = ["everyday use", "home use", "gift giving", "daily life", "general purposes", "many occasions"]
CIRCULAR = ["because they like it", "for the same reason", "they need it", "personal preference",
            "they go together", "to use them"]
INCOMPLETE = ["keeping the baby warm at", "for use with the", "cooking and", "people who want to"]
VERBS = ["planning", "hosting", "preparing for", "recovering from", "training for", "decorating for",
         "organizing", "celebrating", "starting", "learning", "improving", "protecting against"]
OBJECTS = ["a birthday party", "a marathon", "a road trip", "winter storms", "a new job", "spring cleaning",
           "a wedding", "exam season", "a camping weekend", "a home renovation", "a garden project",
           "holiday baking", "a newborn's arrival", "a fishing trip", "a dinner party", "moving house"]
MODIFIERS = ["", "on a budget", "with kids", "in a small apartment", "in cold weather", "for beginners",
             "at the last minute", "with friends", "outdoors", "in the city"]
RELATIONS = ["used_for_function", "used_for_event", "used_for_audience", "used_in_location", "used_with",
             "xWant", "capable_of", "used_in_body"]


def _variant(text: str, rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.3:
        return text + "s" if not text.endswith("s") else text[:-1]
    if choice < 0.5:
        return text.capitalize() + "."
    if choice < 0.7:
        return "for " + text
    return text.upper() if choice < 0.75 else text.replace(" ", "  ")


SYLLABLES = ["ka", "lo", "mi", "ru", "te", "no", "sa", "vi", "do", "pe", "zu", "ha", "ri", "go", "be", "xu",
             "la", "me", "ti", "po", "ne", "fu", "ya", "ko", "si", "wa", "de", "mu", "ro", "chi"]


def _open_tail(index: int) -> str:
    """A deterministic open-vocabulary intent for ``index``: the set of distinct tails grows with the input."""
    word = "".join(SYLLABLES[(index // len(SYLLABLES) ** i) % len(SYLLABLES)] for i in range(3))
    verb = VERBS[index % len(VERBS)]
    if index % 3:
        obj = OBJECTS[(index // 7) % len(OBJECTS)].replace("a ", f"a {word} ", 1)
    else:
        obj = f"{word} {OBJECTS[index % len(OBJECTS)]}"
    modifier = MODIFIERS[(index // 11) % len(MODIFIERS)]
    return " ".join(x for x in (verb, obj, modifier) if x)


def _products(rng: random.Random) -> tuple[list[dict], list[tuple[str, str]]]:
    products, types = [], []
    for category, by_type in CATALOGUE.items():
        for ptype in by_type:
            for brand in BRANDS:
                for adjective in ADJECTIVES[:4]:
                    title = f"{brand} {adjective} {ptype.title()} {rng.randint(1, 9)}-Pack"
                    products.append({"product_id": f"P{len(products):06d}", "title": title, "category": category,
                                     "product_type": ptype, "source": "synthetic", "source_file": "synthetic",
                                     "source_row": len(products) + 1})
                    types.append((category, ptype))
    return products, types


def _behaviors(n_behaviors: int, products: list[dict], types: list, rng: random.Random) -> tuple[list, list]:
    behaviors, heads = [], []
    for b in range(n_behaviors):
        right = rng.randrange(len(products))
        category, ptype = types[right]
        if b % 2:
            left = rng.choice([i for i in range(max(0, right - 40), min(len(products), right + 40))
                               if types[i][0] == category and i != right] or [right - 1])
            kind, left_id, left_text = "co_buy", products[left]["product_id"], products[left]["title"]
            head = f"{left_text} + {products[right]['title']}"
        else:
            kind = "search_buy"
            left_text = rng.choice([ptype, f"best {ptype}", f"{ptype} for {rng.choice(OBJECTS)}",
                                    f"cheap {ptype} {rng.randint(1, 999)}"])
            left_id, head = left_text.lower(), f"{left_text} -> {products[right]['title']}"
        behaviors.append({"behavior_id": short_id(kind, left_id, b), "kind": kind, "left": left_id,
                          "right": products[right]["product_id"], "left_text": left_text,
                          "right_text": products[right]["title"], "support": rng.randint(1, 50),
                          "category": category, "pii_redactions": 0, "source": "synthetic",
                          "source_file": "synthetic", "source_row": b + 1})
        heads.append((head, category, ptype, products[right]["title"]))
    return behaviors, heads


def synthetic_tables(n_candidates: int, seed: int = 0, per_behavior: int = 8,
                     logprob_share: float = 1.0) -> dict[str, pa.Table]:
    """products, behaviors and candidates tables; candidates come ``per_behavior`` to a behaviour, four
    per (behaviour, relation) as two samples of a two-item list."""
    rng = random.Random(seed)
    products, types = _products(rng)
    n_behaviors = max(1, n_candidates // per_behavior)
    behaviors, heads = _behaviors(n_behaviors, products, types, rng)
    open_space = max(500, n_candidates // 3)
    names = [f.name for f in CANDIDATES][:17]  # the columns written below; later ones stay null
    cols: dict[str, list] = {name: [] for name in names}
    for c in range(n_candidates):
        b = c % n_behaviors
        head, category, ptype, title = heads[b]
        intents = CATALOGUE[category][ptype]
        roll = rng.random()
        status = "ok"
        if roll < 0.30:
            tail = rng.choice(intents)
        elif roll < 0.45:
            tail = _variant(rng.choice(intents), rng)
        elif roll < 0.50:
            tail = rng.choice(GENERIC)
        elif roll < 0.55:
            tail = rng.choice(CIRCULAR)
        elif roll < 0.59:
            tail = rng.choice([ptype, f"a type of {ptype}", title])
        elif roll < 0.62:
            tail = rng.choice(INCOMPLETE)
        elif roll < 0.64:
            tail, status = None, rng.choice(["empty", "unparseable", "truncated"])
        else:
            tail = _open_tail(rng.randrange(open_space))
            if rng.random() < 0.15:
                tail = _variant(tail, rng)
        behavior = behaviors[b]
        k = c // n_behaviors  # the k-th candidate of this behaviour: 4 per (behaviour, relation)
        relation = RELATIONS[(b + k // 4) % len(RELATIONS)]
        sample, position = k % 2, (k // 2) % 2 + 1
        logprob = round(-rng.uniform(0.3, 4.0), 4) if tail and rng.random() < logprob_share else None
        row = (short_id("synthetic", c, seed), behavior["behavior_id"], behavior["kind"], head, relation, tail,
               position, f"{position}. {tail or ''}", status, "synthetic", "1", "synthetic", "synthetic",
               short_id("req", b, relation, sample, seed), sample, logprob, len((tail or "").split()) or None)
        for name, value in zip(names, row):
            cols[name].append(value)
    return {"products": conform(pa.Table.from_pylist(products), "products"),
            "behaviors": conform(pa.Table.from_pylist(behaviors), "behaviors"),
            "candidates": conform(pa.table(cols), "candidates")}


def write_synthetic_workspace(root: str | Path, n_candidates: int, seed: int = 0, **options) -> Workspace:
    """A workspace with ingest/ (products, behaviors) and generate/ (candidates) from synthetic data."""
    ws = Workspace(root)
    tables = synthetic_tables(n_candidates, seed, **options)
    config = {"synthetic": True, "n_candidates": n_candidates, "seed": seed, **options}
    with ws.run("ingest", config=config, force=True) as run:
        run.write("products", tables["products"], schema=PRODUCTS)
        run.write("behaviors", tables["behaviors"], schema=BEHAVIORS)
    with ws.run("generate", config=config, inputs=["ingest"], force=True) as run:
        for start in range(0, tables["candidates"].num_rows, 262_144):
            run.write("candidates", tables["candidates"].slice(start, 262_144), schema=CANDIDATES)
        run.ensure("candidates")
    return ws
