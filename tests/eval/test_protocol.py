"""The evaluation's default protocol hides test queries: a KG that spells out their labels gives no lift.

Each "group" is two near-duplicate queries that bought the same four products, one per ESCI label;
every behaviour's only knowledge is its label ("used for function exact match", ...). Under the
old default (``--unseen own``) a test pair left out only its own query, so the product's facts
learnt from the *other* test query of its group spelled the pair's label.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from helpers.kg_workspace import make_workspace

from intentkg.eval.config import EvalConfig, KnowledgeConfig
from intentkg.eval.esci_data import EsciDataConfig
from intentkg.eval.stage import run_esci_eval
from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig

LABEL_TAIL = {"E": "exact match", "S": "substitute item", "C": "complement item", "I": "irrelevant item"}
TOPICS = ["hiking boots", "espresso machine", "yoga mat", "garden hose", "dog leash", "desk lamp", "rain jacket",
          "chess set", "baby stroller", "bike helmet", "water bottle", "ski goggles", "cutting board",
          "guitar strings", "phone charger", "fishing rod"]
NOUNS = ["Anchor", "Beacon", "Cedar", "Drift", "Ember", "Fjord", "Glacier", "Harbor", "Iris", "Juniper", "Kestrel",
         "Lantern", "Meadow", "Nimbus", "Orchid", "Prairie"]
THINGS = ["Thermos", "Blanket", "Notebook", "Umbrella"]


def _rows():
    products, search, candidates, esci = [], [], [], []
    for g, topic in enumerate(TOPICS):
        labels = "ESCI"[g % 4:] + "ESCI"[:g % 4]
        queries = [f"{topic} for adults", f"best {topic} for adults"]
        split = "test" if g % 2 else "train"
        for k, label in enumerate(labels):
            pid = f"P{g:02d}{k}"
            products.append(f"{pid},{NOUNS[g]} {THINGS[k]} {g}{k},Misc,{THINGS[k].lower()}")
            for q in queries:
                search.append(f"{q},{pid},1")
                candidates.append((f"q:{q}|{pid}", "used_for_function", LABEL_TAIL[label], 0.9, [], None))
                esci.append((q, pid, label, split))
    return products, search, candidates, esci


@pytest.fixture(scope="module")
def leaky(tmp_path_factory):
    root = tmp_path_factory.mktemp("leaky")
    products, search, candidates, esci = _rows()
    ws = make_workspace(root / "src", products="product_id,title,category,product_type\n" + "\n".join(products),
                        pairs="left_product_id,right_product_id,support\nP000,P001,1\n",
                        search="query,product_id,purchases\n" + "\n".join(search), candidate_spec=candidates)
    run_build(ws, BuildConfig(hierarchy=False))
    folder = root / "esci"
    folder.mkdir()
    titles = {line.split(",")[0]: line.split(",")[1] for line in products}
    import pyarrow as pa

    pq.write_table(pa.Table.from_pylist([
        {"example_id": i, "query": q, "query_id": TOPICS.index(q.removeprefix("best ").removesuffix(" for adults")),
         "product_id": p, "product_locale": "us", "esci_label": label, "small_version": 1, "large_version": 1,
         "split": split} for i, (q, p, label, split) in enumerate(esci)]),
        folder / "shopping_queries_dataset_examples.parquet")
    pq.write_table(pa.Table.from_pylist([{"product_id": p, "product_title": t, "product_locale": "us"}
                                         for p, t in titles.items()]),
                   folder / "shopping_queries_dataset_products.parquet")
    return ws, folder


def _run(ws, folder, unseen):
    config = EvalConfig(data=EsciDataConfig(path=folder), encoders=["bi"], heads=["logreg"], tasks=["esci"],
                        seeds=1, n_boot=100, knowledge=KnowledgeConfig(unseen=unseen),
                        stage=f"eval-{unseen}")
    doc = run_esci_eval(ws, config)
    table = pq.read_table(ws.stage_dir(config.stage) / "knowledge.parquet").to_pylist()
    test = [r for r in table if r["split"] == "test"]
    spelled = sum(LABEL_TAIL[r["label"]] in r["knowledge"] for r in test) / len(test)
    return doc["headline"], spelled


def test_default_protocol_hides_test_queries_so_spelled_labels_give_no_lift(leaky):
    """Fails on the old code: its default (own) left the sibling test query in the KG."""
    ws, folder = leaky
    assert EvalConfig(data=EsciDataConfig(path=folder)).knowledge.unseen == "split"
    headline, spelled = _run(ws, folder, "split")
    assert spelled <= 0.35  # only by chance, through nearest training products
    assert headline["abs_ci"][1] < 0.2 and headline["abs"] < 0.1, headline


def test_leave_own_out_alone_leaks_the_labels(leaky):
    """The control: with only the pair's own query left out, the labels reach the test pairs."""
    ws, folder = leaky
    headline, spelled = _run(ws, folder, "own")
    assert spelled == 1.0
    assert headline["abs"] > 0.3, headline


def test_folds_hide_the_predicted_fold(leaky, tmp_path):
    ws, folder = leaky
    from intentkg.eval.esci_data import load_esci
    from intentkg.eval.inputs import protocol_groups

    config = EvalConfig(data=EsciDataConfig(path=folder, folds=4))
    data = load_esci(config.data)
    groups = protocol_groups(data, config)
    queries = data.pairs.column("query").to_pylist()
    assert len(groups) == 4 and sorted(i for rows, _ in groups for i in rows) == list(range(len(queries)))
    for rows, hidden in groups:
        assert set(hidden) == {queries[i] for i in rows}
