"""A seeded per-unit experiment table: sales (with a pre-period column), a ratio metric, a guardrail,
two redundant metrics and one exploratory metric, with a real effect on sales and orders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

METRICS_YAML = """\
ratios:
  ctr: {numerator: clicks, denominator: impressions}
decision: [sales, ctr]
guardrails: [latency_ms]
alpha: 0.05
correction: holm
"""


def experiment_table(n: int = 4000, seed: int = 0, lift: float = 0.05, treatment_share: float = 0.5,
                     experiments: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    treated = rng.random(n) < treatment_share
    pre = rng.gamma(2.0, 10.0, n)
    sales = 0.7 * pre + rng.gamma(2.0, 4.0, n)
    sales = np.where(treated, sales * (1 + lift), sales)
    orders = sales / 10 + rng.normal(0, 0.3, n)
    impressions = rng.poisson(30, n) + 1
    clicks = rng.binomial(impressions, 0.1)
    return pa.table({
        "unit_id": [f"u{i}" for i in range(n)],
        "variant": np.where(treated, "treatment", "control"),
        "experiment_id": [f"e{i % experiments}" for i in range(n)],
        "sales": sales, "sales__pre": pre, "orders": orders,
        "clicks": clicks, "impressions": impressions,
        "latency_ms": rng.normal(120, 15, n), "dwell_s": rng.exponential(30, n),
    })


@pytest.fixture
def experiment_files(tmp_path) -> tuple[Path, Path]:
    table = tmp_path / "units.parquet"
    pq.write_table(experiment_table(), table)
    config = tmp_path / "metrics.yaml"
    config.write_text(METRICS_YAML)
    return table, config
