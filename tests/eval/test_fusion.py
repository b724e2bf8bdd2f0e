"""The fusion encoder: the pair encoded once without knowledge, each distinct knowledge text once."""

import numpy as np
import pyarrow.parquet as pq
import pytest

from intentkg.eval.config import EvalConfig, KnowledgeConfig
from intentkg.eval.esci_data import EsciDataConfig
from intentkg.eval.fusion import bare, fact_block, fusion_settings, knowledge_block
from intentkg.eval.stage import run_esci_eval


@pytest.fixture(scope="module")
def minilm():
    from intentkg.embed import load_embedder

    return load_embedder("all-MiniLM-L6-v2")


class Counting:
    """The real embedder, counting the texts it is asked to encode."""

    def __init__(self, embedder):
        self.embedder, self.texts = embedder, []

    def __call__(self, texts):
        self.texts.extend(texts)
        return self.embedder.encode(list(texts))


def test_block_encodes_each_knowledge_text_once_and_matches_kinds(minilm):
    embed = Counting(minilm)
    queries = ["trail running shoes", "trail running shoes", "trail running shoes", "chef knife"]
    products = ["Men's Trail Runner Sneaker", "Stainless Steel Kitchen Knife 8 inch", "Shoe Laces", "Knife Block"]
    qk = ["query intent: is a running shoes", "query intent: is a running shoes", "query intent: is a running shoes", ""]
    pk = ["product: is a running shoes", "product: is a kitchen knives", "product: is a running shoes", ""]
    block = knowledge_block(embed, queries, products, qk, pk)
    assert block.shape == (4, 5)
    asked = [t for t in embed.texts if t not in queries and t not in products]
    assert sorted(asked) == ["kitchen knives", "running shoes", "running shoes"]  # each side's distinct text once
    assert block[0, 0] > 0.9 and block[1, 0] < block[0, 0] - 0.2  # intended kind vs the product's kind
    assert block[3].tolist() == [0.0, 0.0, 0.0, 0.0, 0.0]  # no knowledge: zero cosines, flags off
    assert block[:3, 3:].tolist() == [[1.0, 1.0]] * 3
    assert knowledge_block(embed, queries, products, qk, pk, vectors=True).shape == (4, 5 + 2 * 384)


def test_fact_block_matches_the_query_with_one_fact_not_their_mean(minilm):
    """The query names one of the product's complements: its best fact scores far above the cosine with
    the product's whole knowledge text (the block's cos(q, pk)), which the other facts dilute."""
    embed = Counting(minilm)
    queries = ["paint brushes", "paint brushes", "paint brushes"]
    products = ["Acrylic Paint Set 24 Colors", "Acrylic Paint Set 24 Colors", "Garden Hose 50 ft"]
    pk = ["product: used with a canvas, used with paint brushes, used with an easel, used with a palette knife",
          "product: used with a phone charger, used with a laptop bag", ""]
    qk = ["", "", "query intent: is a art supplies"]
    block = knowledge_block(embed, queries, products, qk, pk, facts=True)
    assert block.shape == (3, 9)
    best, mean = block[:, 5], block[:, 6]
    assert best[0] > 0.99 and mean[0] < best[0] - 0.2  # "paint brushes" is one of four facts
    assert best[0] > block[0, 1] + 0.2  # the whole text's cosine (query . product knowledge) dilutes it
    assert best[1] < best[0] - 0.3  # unrelated complements
    assert block[2, 5:7].tolist() == [0.0, 0.0]  # no product facts
    assert block[2, 7] != 0 and block[:2, 7:].tolist() == [[0.0, 0.0]] * 2  # the title against the query's facts
    q, p = minilm.encode(queries[:1]), minilm.encode(products[:1])
    one = fact_block(embed, q, p, qk[:1], pk[:1])
    assert one[0, 0] == pytest.approx(block[0, 5], abs=1e-5)


def test_facts_give_every_setting_the_query_title_cosine(minilm):
    class K:
        def __init__(self, q, p):
            self.query_text, self.product_text = q, p

    pair = np.zeros((2, 3), dtype=np.float32)
    queries, products = ["trail running shoes", "trail running shoes"], ["Men's Trail Runner Sneaker", "Knife Block"]
    out = fusion_settings(Counting(minilm), pair, queries, products, {"with": K(["", ""], ["product: is a shoes", ""])},
                          facts=True)
    cos = out["without"][:, 3]
    assert cos[0] > cos[1] + 0.2 and np.array_equal(out["with"][:, 3], cos)  # knowledge-free: the same in both
    assert not out["without"][:, 4:].any() and out["with"].shape == (2, 4 + 9)


def test_bare_drops_labels_and_relation_phrases():
    assert bare("query intent: is a running shoes, used for function trail runs") == "running shoes, trail runs"
    assert bare("product: used with a shoe horn") == "a shoe horn"
    assert bare("the and of this") == "the and of this" and bare("") == ""


def test_settings_share_the_pair_features(minilm):
    class K:
        def __init__(self, q, p):
            self.query_text, self.product_text = q, p

    pair = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = fusion_settings(Counting(minilm), pair, ["a", "b"], ["c", "d"],
                          {"with": K(["query intent: x", ""], ["", "product: y"]), "filler": K(["the", ""], ["", "the"])})
    assert set(out) == {"without", "with", "filler"}
    assert all(np.array_equal(f[:, :3], pair) for f in out.values())
    assert not out["without"][:, 3:].any() and out["with"][:, 6:].tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_stage_fusion_encodes_pairs_once(eval_ws, esci_dir):
    """Fails on the old code (no fusion encoder): the cross-encoder reads each pair once, not four times."""
    config = EvalConfig(data=EsciDataConfig(path=esci_dir), heads=["logreg"], seeds=1, n_boot=100, tasks=["esci"],
                        encoders=["fusion"], primary=("fusion", "logreg", "esci", "macro_f1"),
                        knowledge=KnowledgeConfig(min_similarity=0.3), stage="eval-fusion")
    doc = run_esci_eval(eval_ws, config)
    top = doc["headline"]
    assert (top["encoder"], top["n_pairs"]) == ("fusion", 15) and set(top["controls"]) == {"shuffled", "filler"}
    predictions = pq.read_table(eval_ws.stage_dir("eval-fusion") / "predictions.parquet")
    assert sorted(set(predictions.column("setting").to_pylist())) == ["filler", "shuffled", "with", "without"]
    manifest = eval_ws.manifest("eval-fusion")
    # the cross encoder as "cross" would use it reads 4 texts a pair (without, with, 2 controls): 160 here;
    # fusion reads each pair once (40) plus the distinct query, title and knowledge texts once each
    assert manifest.counts["pairs"] == 40 and manifest.counts["embedding_cache_misses"] < 80
