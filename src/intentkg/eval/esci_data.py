"""Read the ESCI relevance files (public Shopping Queries Dataset schema) into one pairs table.

    data = load_esci(EsciDataConfig(path=Path("esci")))     # folder with the two parquet files
    data.pairs      # example_id, query, query_id, product_id, locale, label, split, fold, title, product_text
    data.counts     # rows read, kept, dropped (and why)

Selection: locales (``us`` by default; ``[]`` keeps all), the large version (ESCI tasks 2 and 3)
or the small one (task 1), the train and test splits, and a seeded sub-sample of queries per split
for quick runs. ``folds > 1`` ignores the split column and assigns queries to K folds instead
(cross-fitting, for samples too small to hold a test split out). Products are joined on
(product_id, product_locale), as in the public files; only the needed products are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from intentkg.errors import InputError
from intentkg.ingest.sources.esci import EXAMPLES_FILE, LABELS, PRODUCTS_FILE
from intentkg.query_key import clean_query, query_key

LABEL_NAMES = {"exact": "E", "substitute": "S", "complement": "C", "irrelevant": "I"}
PRODUCT_FIELDS = {"title": "product_title", "brand": "product_brand", "color": "product_color",
                  "bullets": "product_bullet_point", "description": "product_description"}
_TAG = re.compile(r"<[^>]+>")
DOWNLOAD_HINT = ("the public files are shopping_queries_dataset/{name} in github.com/amazon-science/esci-data; "
                 "give the folder, or the file with --examples / --products")


class EsciDataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: Path | None = Field(None, description="folder with shopping_queries_dataset_{examples,products}.parquet")
    examples: Path | None = None
    products: Path | None = None
    locales: list[str] = Field(["us"], description="product_locale values to keep; [] keeps every locale")
    version: Literal["large", "small", "all"] = Field("large", description="ESCI tasks 2/3 use the large version")
    train_split: str = "train"
    test_split: str = "test"
    folds: int = Field(0, ge=0, description=">1: K query-grouped folds instead of the split column")
    max_queries: int | None = Field(None, ge=1, description="sub-sample: at most this many queries per split")
    seed: int = 0
    split_seed: int | None = Field(None, description="re-split: the file's train and test queries pooled and "
                                                     "drawn again with this seed, as many test queries as the file "
                                                     "has (robustness over splits); None: the file's split column")
    product_fields: list[Literal["title", "brand", "color", "bullets", "description"]] = ["title"]
    max_product_chars: int = Field(400, ge=20)

    def files(self) -> tuple[Path, Path]:
        if self.path is None and (self.examples is None or self.products is None):
            raise InputError("no ESCI data given", hint="give the folder with the two parquet files "
                             "(or --demo for the bundled demo set)")
        examples = self.examples or self.path / EXAMPLES_FILE  # type: ignore[operator]
        products = self.products or self.path / PRODUCTS_FILE  # type: ignore[operator]
        for file, name in ((examples, EXAMPLES_FILE), (products, PRODUCTS_FILE)):
            if not Path(file).is_file():
                raise InputError("file not found", file=str(file), hint=DOWNLOAD_HINT.format(name=name))
        return Path(examples), Path(products)


@dataclass
class EsciData:
    pairs: pa.Table
    counts: dict = field(default_factory=dict)
    files: tuple[Path, Path] | None = None

    def split_mask(self, split: str) -> np.ndarray:
        return self.pairs.column("split").to_numpy(zero_copy_only=False) == split


def _columns(path: Path, required: list[str], optional: list[str]) -> list[str]:
    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise InputError(f"cannot read as Parquet: {exc}", file=str(path)) from exc
    for name in required:
        if name not in names:
            raise InputError("required column missing", file=str(path), column=name,
                             hint=f"the file has: {', '.join(names)}")
    return [n for n in required + optional if n in names]


def _labels(column: pa.ChunkedArray, path: Path) -> list[str]:
    """E/S/C/I per row (full names accepted); the first bad value is reported with its row."""
    values = np.array(["" if v is None else str(v) for v in column.to_pylist()], dtype=object)
    uniques, inverse = np.unique(values.astype(str), return_inverse=True)
    mapped = [LABEL_NAMES.get(u.strip().lower(), u.strip().upper()) for u in uniques]
    bad = [i for i, label in enumerate(mapped) if label not in LABELS]
    if bad:
        row = int(np.flatnonzero(np.isin(inverse, bad))[0])
        raise InputError(f"esci_label {column[row].as_py()!r} is not one of E, S, C, I (or exact/substitute/"
                         f"complement/irrelevant)", file=str(path), row=row + 1, column="esci_label")
    return np.array(mapped, dtype=object)[inverse].tolist()


def _sample_queries(query_ids: np.ndarray, splits: np.ndarray, limit: int | None, seed: int) -> np.ndarray:
    keep = np.ones(len(query_ids), dtype=bool)
    if limit is None:
        return keep
    rng = np.random.default_rng(seed)
    for split in np.unique(splits):
        in_split = splits == split
        ids = np.unique(query_ids[in_split])
        if len(ids) > limit:
            chosen = rng.choice(ids, size=limit, replace=False)
            keep &= ~in_split | np.isin(query_ids, chosen)
    return keep


def resplit(query_ids: np.ndarray, splits: np.ndarray, train: str, test: str, seed: int) -> np.ndarray:
    """The split column drawn again by query: as many test queries as ``splits`` has, the others train."""
    unique = np.unique(query_ids.astype(str))
    n_test = len(np.unique(query_ids[splits == test].astype(str)))
    chosen = np.random.default_rng(seed).permutation(len(unique))[:n_test]
    is_test = np.isin(query_ids.astype(str), unique[chosen])
    return np.where(is_test, test, train).astype(object)


def _product_text(table: pa.Table, fields: list[str], limit: int) -> list[str]:
    columns = {f: table.column(PRODUCT_FIELDS[f]).to_pylist() if PRODUCT_FIELDS[f] in table.column_names
               else [None] * table.num_rows for f in fields}
    texts = []
    for i in range(table.num_rows):
        parts = []
        for name in fields:
            value = columns[name][i]
            if value:
                value = " ".join(_TAG.sub(" ", str(value)).split())
                parts.append(value if name == "title" else f"{name}: {value}")
        texts.append(" ; ".join(parts)[:limit])
    return texts


def load_esci(config: EsciDataConfig) -> EsciData:
    examples_path, products_path = config.files()
    wanted = _columns(examples_path, ["query", "product_id", "esci_label"],
                      ["example_id", "query_id", "product_locale", "split", "small_version", "large_version"])
    table = pq.read_table(examples_path, columns=wanted)
    counts: dict = {"examples_read": table.num_rows}
    n = table.num_rows
    keep = np.ones(n, dtype=bool)
    if config.locales and "product_locale" in table.column_names:
        keep &= np.isin(table.column("product_locale").to_numpy(zero_copy_only=False), config.locales)
    version_column = f"{config.version}_version"
    if config.version != "all" and version_column in table.column_names:
        keep &= table.column(version_column).fill_null(0).to_numpy(zero_copy_only=False) == 1
    if config.folds <= 1:
        if "split" not in table.column_names:
            raise InputError("no split column: give --folds K to cross-fit over query-grouped folds instead",
                             file=str(examples_path), column="split")
        keep &= np.isin(table.column("split").to_numpy(zero_copy_only=False),
                        [config.train_split, config.test_split])
    table = table.filter(pa.array(keep))
    if table.num_rows == 0:
        raise InputError(f"no rows left after selecting locales {config.locales or 'all'}, version "
                         f"{config.version!r}, splits {config.train_split!r}/{config.test_split!r}",
                         file=str(examples_path), hint="check --locale, --version and the split names")
    # scrubbed as ingest stores query text: the encoders read it and the KG lookup keys it
    queries = [clean_query(q).text for q in table.column("query").to_pylist()]
    if "query_id" in table.column_names:
        query_ids = table.column("query_id").cast(pa.string()).to_numpy(zero_copy_only=False)
    else:
        query_ids = np.array([query_key(q) for q in queries], dtype=object)
    if config.folds > 1:
        unique = np.unique(query_ids)
        order = np.random.default_rng(config.seed).permutation(len(unique))
        fold_of = dict(zip(unique[order].tolist(), (np.arange(len(unique)) % config.folds).tolist()))
        folds = np.array([fold_of[q] for q in query_ids], dtype=np.int64)
        splits = np.array(["all"] * table.num_rows, dtype=object)
    else:
        folds = np.full(table.num_rows, -1, dtype=np.int64)
        splits = table.column("split").to_numpy(zero_copy_only=False).astype(object)
        if config.split_seed is not None:
            splits = resplit(query_ids, splits, config.train_split, config.test_split, config.split_seed)
    sampled = _sample_queries(query_ids, splits, config.max_queries, config.seed)
    table, queries = table.filter(pa.array(sampled)), [q for q, s in zip(queries, sampled) if s]
    query_ids, folds, splits = query_ids[sampled], folds[sampled], splits[sampled]
    labels = _labels(table.column("esci_label"), examples_path)
    locales = (table.column("product_locale").to_pylist() if "product_locale" in table.column_names
               else [""] * table.num_rows)
    product_ids = [str(p) for p in table.column("product_id").to_pylist()]
    example_ids = (table.column("example_id").to_pylist() if "example_id" in table.column_names
                   else list(range(table.num_rows)))

    pcols = _columns(products_path, ["product_id", "product_title"],
                     ["product_locale"] + [PRODUCT_FIELDS[f] for f in config.product_fields if f != "title"])
    dataset = ds.dataset(products_path, format="parquet")
    products = dataset.to_table(columns=pcols, filter=pc.field("product_id").isin(sorted(set(product_ids))))
    key = "product_locale" in products.column_names and any(locales)
    texts = _product_text(products, list(dict.fromkeys(["title", *config.product_fields])), config.max_product_chars)
    titles = products.column("product_title").to_pylist()
    lookup: dict[tuple[str, str], tuple[str, str]] = {}
    for i, pid in enumerate(products.column("product_id").to_pylist()):
        loc = products.column("product_locale")[i].as_py() if key else ""
        lookup.setdefault((str(pid), loc or ""), (str(titles[i] or ""), texts[i]))
    found = [lookup.get((p, (loc or "") if key else "")) for p, loc in zip(product_ids, locales)]
    has = np.array([f is not None and bool(f[0].strip()) for f in found], dtype=bool)
    counts["examples_without_product"] = int((~has).sum())
    rows = {
        "example_id": pa.array([str(e) for e in example_ids], pa.string()),
        "query": pa.array(queries, pa.string()),
        "query_id": pa.array([str(q) for q in query_ids], pa.string()),
        "product_id": pa.array(product_ids, pa.string()),
        "locale": pa.array([loc or "" for loc in locales], pa.string()),
        "label": pa.array(labels, pa.string()),
        "split": pa.array([str(s) for s in splits], pa.string()),
        "fold": pa.array(folds, pa.int64()),
        "title": pa.array([f[0] if f else "" for f in found], pa.string()),
        "product_text": pa.array([f[1] if f else "" for f in found], pa.string()),
    }
    pairs = pa.table(rows).filter(pa.array(has))
    if pairs.num_rows == 0:
        raise InputError("no example's product_id was found in the products file", file=str(products_path),
                         column="product_id", hint="the products file must hold the examples' products")
    counts.update(_summary(pairs))
    return EsciData(pairs, counts, (examples_path, products_path))


def _summary(pairs: pa.Table) -> dict:
    out: dict = {"pairs": pairs.num_rows, "queries": len(set(pairs.column("query_id").to_pylist()))}
    for split in sorted(set(pairs.column("split").to_pylist())):
        part = pairs.filter(pc.equal(pairs.column("split"), split))
        labels = part.column("label").to_pylist()
        out[f"split_{split}"] = {"pairs": part.num_rows, "queries": len(set(part.column("query_id").to_pylist())),
                                 "labels": {lab: labels.count(lab) for lab in LABELS}}
    return out
