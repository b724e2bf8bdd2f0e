"""Ingest configuration: which sources to read and how to sample behaviours.

Loaded from YAML (``intentkg ingest run ingest.yaml``) or built by the per-source CLI commands.
Example::

    sources:
      - kind: esci
        path: data/esci            # folder with the two shopping_queries_dataset_*.parquet files
        labels: [E, S]
      - kind: table
        role: search_log
        path: logs/search.parquet
        columns: {query: q, product_id: asin, purchases: orders, clicks: clicks}
    sampling:
      per_category_quota: 5000
      min_purchase_rate: 0.05
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from intentkg.config_file import load_yaml_model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SamplingConfig(_Strict):
    seed: int = 0
    min_support: int = Field(1, ge=0, description="co_buy orders / search_buy purchases a pair needs")
    min_purchase_rate: float = Field(0.0, ge=0, le=1, description="search_buy: purchases / clicks, when clicks known")
    min_click_rate: float = Field(0.0, ge=0, le=1, description="search_buy: clicks / impressions, when known")
    max_hub_categories: int | None = Field(
        None, ge=1, description="drop co_buy pairs of products whose partners span more categories than this")
    min_type_pair_support: int = Field(
        1, ge=1, description="co_buy: a (type, type) combination must occur in at least this many pairs")
    per_category_quota: int | None = Field(None, ge=1, description="max behaviours per (kind, category)")
    max_behaviors: int | None = Field(None, ge=1, description="max behaviours in all")
    broad_query_weight: float = Field(
        0.5, ge=0, description="up-weights queries bought with many different products (broad intents)")


class EsciSource(_Strict):
    kind: Literal["esci"] = "esci"
    path: Path = Field(description="folder with shopping_queries_dataset_{examples,products}.parquet")
    examples: Path | None = None
    products: Path | None = None
    labels: list[Literal["E", "S", "C", "I"]] = ["E"]
    locales: list[str] | None = None
    splits: list[str] | None = Field(["train"], description="keep the test split out of the KG (eval uses it)")
    all_products: bool = Field(False, description="keep every product, not only those in kept examples")


class InstacartSource(_Strict):
    kind: Literal["instacart"] = "instacart"
    path: Path = Field(description="folder with orders.csv, order_products__*.csv, products.csv, aisles, departments")
    order_files: list[str] = ["order_products__prior.csv", "order_products__train.csv"]
    max_basket_size: int = Field(60, ge=2, description="orders with more lines are skipped (counted)")


class AmazonReviewsSource(_Strict):
    kind: Literal["amazon_reviews"] = "amazon_reviews"
    path: Path = Field(description="Amazon Reviews 2023 item metadata, meta_<Category>.jsonl")


# our column names of each table role: (required, optional)
TABLE_COLUMNS = {
    "products": (["product_id", "title"],
                 ["category", "product_type", "brand", "description", "bullets", "color", "locale"]),
    "search_log": (["query", "product_id"], ["purchases", "clicks", "impressions"]),
    "co_buy": (["left_product_id", "right_product_id"], ["support"]),
}


def role_columns(role: str) -> list[str]:
    required, optional = TABLE_COLUMNS[role]
    return required + optional


class TableSource(_Strict):
    kind: Literal["table"] = "table"
    role: Literal["products", "search_log", "co_buy"]
    path: Path
    format: Literal["auto", "csv", "tsv", "parquet", "jsonl"] = "auto"
    columns: dict[str, str] = Field(default_factory=dict, description="our column name -> the file's column name")

    @model_validator(mode="after")
    def _known_columns(self) -> "TableSource":
        unknown = sorted(set(self.columns) - set(role_columns(self.role)))
        if unknown:
            raise ValueError(f"columns: {', '.join(map(repr, unknown))} is not a column of a {self.role} table; "
                             f"ours are {', '.join(role_columns(self.role))} (map ours: theirs)")
        return self


Source = Annotated[Union[EsciSource, InstacartSource, AmazonReviewsSource, TableSource], Field(discriminator="kind")]


class IngestConfig(_Strict):
    sources: list[Source]
    sampling: SamplingConfig = SamplingConfig()
    scrub_pii: bool = True


def load_config(path: str | Path) -> IngestConfig:
    path = Path(path)
    config = load_yaml_model(path, IngestConfig, "docs/ingest.md")
    base = path.parent
    for source in config.sources:  # relative paths are relative to the config file
        for attr in ("path", "examples", "products"):
            value = getattr(source, attr, None)
            if value is not None and not value.is_absolute():
                setattr(source, attr, base / value)
    return config
