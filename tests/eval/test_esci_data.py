from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from intentkg.demo_data import demo_path
from intentkg.errors import InputError
from intentkg.eval.esci_data import EsciDataConfig, load_esci


def test_demo_set_splits_and_labels():
    data = load_esci(EsciDataConfig(path=demo_path("esci")))
    assert data.counts["split_train"]["pairs"] + data.counts["split_test"]["pairs"] == data.pairs.num_rows
    assert set(data.pairs.column("label").to_pylist()) == {"E", "S", "C", "I"}
    train = set(data.pairs.filter(pa.array(data.split_mask("train"))).column("query_id").to_pylist())
    test = set(data.pairs.filter(pa.array(data.split_mask("test"))).column("query_id").to_pylist())
    assert train and test and not train & test  # split by query
    assert all(data.pairs.column("product_text").to_pylist())


def test_subsample_is_per_split_seeded_and_keeps_whole_queries(esci_dir):
    a = load_esci(EsciDataConfig(path=esci_dir, max_queries=2, seed=1))
    b = load_esci(EsciDataConfig(path=esci_dir, max_queries=2, seed=1))
    assert a.pairs.equals(b.pairs)
    assert a.counts["split_train"]["queries"] == 2 and a.counts["split_test"]["queries"] == 2
    assert a.pairs.num_rows == 4 * 5


def test_folds_locale_fields(esci_dir):
    data = load_esci(EsciDataConfig(path=esci_dir, folds=3, product_fields=["title", "brand", "description"]))
    assert set(data.pairs.column("split").to_pylist()) == {"all"}
    folds = {}
    for q, f in zip(data.pairs.column("query_id").to_pylist(), data.pairs.column("fold").to_pylist()):
        folds.setdefault(q, set()).add(f)
    assert all(len(v) == 1 for v in folds.values()) and {f for v in folds.values() for f in v} == {0, 1, 2}
    text = data.pairs.column("product_text")[0].as_py()
    assert "brand: Brand" in text and "<b>" not in text
    with pytest.raises(InputError, match="no rows left"):
        load_esci(EsciDataConfig(path=esci_dir, locales=["jp"]))
    assert load_esci(EsciDataConfig(path=esci_dir, locales=[])).pairs.num_rows == 40


def test_errors_name_file_and_column(tmp_path, esci_dir):
    with pytest.raises(InputError, match="shopping_queries_dataset_examples.parquet.*file not found"):
        load_esci(EsciDataConfig(path=tmp_path / "nowhere"))
    examples = esci_dir / "shopping_queries_dataset_examples.parquet"
    table = pq.read_table(examples)
    pq.write_table(table.drop(["esci_label"]), examples)
    with pytest.raises(InputError, match="column 'esci_label'.*required column missing"):
        load_esci(EsciDataConfig(path=esci_dir))
    labels = table.column("esci_label").to_pylist()
    labels[3] = "maybe"
    pq.write_table(table.set_column(table.schema.get_field_index("esci_label"), "esci_label", pa.array(labels)),
                   examples)
    with pytest.raises(InputError, match="row 4, column 'esci_label'"):
        load_esci(EsciDataConfig(path=esci_dir))
    pq.write_table(table.drop(["split"]), examples)
    with pytest.raises(InputError, match="--folds"):
        load_esci(EsciDataConfig(path=esci_dir))
    assert load_esci(EsciDataConfig(path=esci_dir, folds=2)).pairs.num_rows == 40


def test_full_label_names_and_missing_products(tmp_path, esci_dir):
    examples = esci_dir / "shopping_queries_dataset_examples.parquet"
    table = pq.read_table(examples)
    names = {"E": "exact", "S": "Substitute", "C": "complement", "I": "irrelevant"}
    labels = [names[v] for v in table.column("esci_label").to_pylist()]
    ids = table.column("product_id").to_pylist()
    ids[0] = "UNKNOWN"
    table = table.set_column(table.schema.get_field_index("esci_label"), "esci_label", pa.array(labels))
    pq.write_table(table.set_column(table.schema.get_field_index("product_id"), "product_id", pa.array(ids)), examples)
    data = load_esci(EsciDataConfig(path=esci_dir))
    assert data.counts["examples_without_product"] == 1 and data.pairs.num_rows == 39
    assert set(data.pairs.column("label").to_pylist()) == {"E", "S", "C", "I"}


def test_real_esci_sample(shared_data: Path):
    data = load_esci(EsciDataConfig(path=shared_data / "esci-sample"))
    assert data.pairs.num_rows == 199 and data.counts["examples_without_product"] == 0
    assert data.counts["split_test"]["pairs"] == 34
    folds = load_esci(EsciDataConfig(path=shared_data / "esci-sample", folds=5))
    assert set(folds.pairs.column("fold").to_pylist()) == {0, 1, 2, 3, 4}


def test_split_seed_draws_the_test_queries_again(esci_dir):
    """--split-seed: the same number of test queries (here 3 of 8), whole queries, seeded; another seed
    draws other ones, and without it the file's split column is used as is."""
    def test_queries(data):
        return set(data.pairs.filter(pa.array(data.split_mask("test"))).column("query").to_pylist())

    file_split = load_esci(EsciDataConfig(path=esci_dir))
    drawn = {seed: load_esci(EsciDataConfig(path=esci_dir, split_seed=seed)) for seed in range(4)}
    assert test_queries(file_split) == {"camping gear for winter trips", "things for a newborn",
                                        "sleeping bag for winter"}
    for data in drawn.values():
        assert data.pairs.num_rows == file_split.pairs.num_rows
        assert data.counts["split_test"]["queries"] == 3 and data.counts["split_train"]["queries"] == 5
        train = set(data.pairs.filter(pa.array(data.split_mask("train"))).column("query").to_pylist())
        assert not train & test_queries(data)
    assert test_queries(load_esci(EsciDataConfig(path=esci_dir, split_seed=2))) == test_queries(drawn[2])
    assert len({frozenset(test_queries(d)) for d in drawn.values()}) > 1
