from intentkg.knowledge import Fact, KnowledgeTemplate, PairKnowledge, fact_text, with_knowledge


def _f(relation, intention, score, source="query", iid=""):
    return Fact(relation, intention, score, source, iid or f"intention:{intention}")


def test_fact_text_and_relation_phrases():
    assert fact_text(_f("used_for_event", "winter  camping", 1)) == "used for event winter camping"
    assert fact_text(_f("xWant", "stay warm", 1)) == "customer wants stay warm"
    assert fact_text(_f("xIs_a", "new dad", 1)) == "customer is a new dad"


def test_sides_top_k_deterministic_and_shared_first():
    query = [_f("used_for_event", "winter camping", 0.9), _f("used_in_location", "snowy mountains", 0.6)]
    product = [_f("capable_of", "keep warm", 2.0, "product"), _f("used_for_event", "camping", 1.5, "product"),
               _f("used_for_event", "winter camping", 1.0, "product"),
               _f("used_for_event", "winter camping", 0.5, "product")]  # duplicate: the better one stays
    template = KnowledgeTemplate(top_k=2)
    assert template.query_text(query) == "query intent: used for event winter camping, used in location snowy mountains"
    assert template.product_text(product) == "product: capable of keep warm, used for event camping"
    text = template.pair_text(PairKnowledge(query, product))
    assert text == ("query intent: used for event winter camping, used in location snowy mountains; "
                    "product: used for event winter camping, capable of keep warm; shared: winter camping")
    assert template.pair_text(PairKnowledge(query, list(reversed(product)))) == text
    assert template.pair_text(PairKnowledge([], product)).startswith("product: ")
    assert template.pair_text(PairKnowledge()) == ""
    assert KnowledgeTemplate(top_k=0).pair_text(PairKnowledge(query, product)) == ""
    assert "shared" not in KnowledgeTemplate(shared_label=None).pair_text(PairKnowledge(query, product))


def test_with_knowledge():
    assert with_knowledge("tent", "") == "tent"
    assert with_knowledge("tent", "product: used for event camping") == "tent [SEP] product: used for event camping"


def test_seam_word_said_once():
    assert fact_text(_f("is_a", "a stocking stuffer", 1)) == "is a stocking stuffer"
    assert fact_text(_f("used_for", "for hiking", 1)) == "used for hiking"
    assert fact_text(_f("used_as", "a guest bed", 1)) == "used as a guest bed"
