"""The ingest config for the bundled demo data (src/intentkg/demo_data, see docs/demo-data.md)."""

from __future__ import annotations

from intentkg.ingest.config import IngestConfig, SamplingConfig, TableSource


def demo_config() -> IngestConfig:
    from intentkg.demo_data import demo_path

    return IngestConfig(
        sources=[
            TableSource(role="products", path=demo_path("products.csv")),
            TableSource(role="co_buy", path=demo_path("co_buy.csv")),
            TableSource(role="search_log", path=demo_path("search_log.csv")),
        ],
        sampling=SamplingConfig(min_support=1, min_purchase_rate=0.02, min_click_rate=0.01, max_hub_categories=6),
    )
