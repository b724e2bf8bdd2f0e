"""Cross-check against tea-tasting 1.14, an established A/B-testing library, on its own simulated
users data: Welch means, the delta-method ratio of means and CUPED must give the same effects,
intervals and p-values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import tea_tasting as tt

from intentkg.experiment.analyze import analyze
from intentkg.experiment.config import MetricsConfig, Ratio
from intentkg.experiment.inputs import load_units
from intentkg.ingest.quarantine import Quarantine


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    data = tt.make_users_data(rng=42, covariates=True, n_users=4000)
    theirs = tt.Experiment(
        sessions=tt.Mean("sessions"), revenue=tt.Mean("revenue"),
        orders_per_session=tt.RatioOfMeans("orders", "sessions"),
        orders=tt.Mean("orders", "orders_covariate"),
    ).analyze(data)
    ours_table = pa.table({
        "unit_id": pc.cast(data.column("user"), pa.string()),
        "variant": pa.array(np.where(data.column("variant").to_numpy() == 1, "treatment", "control")),
        "sessions": data.column("sessions"), "revenue": data.column("revenue"), "orders": data.column("orders"),
        "orders__pre": data.column("orders_covariate"),
    })
    path = tmp_path_factory.mktemp("tea") / "users.parquet"
    pq.write_table(ours_table, path)
    config = MetricsConfig(ratios={"orders_per_session": Ratio(numerator="orders", denominator="sessions")},
                           correction="holm")
    readout = analyze(load_units(path, config, Quarantine()), config)
    return theirs, {e.metric: e for e in readout.effects}


@pytest.mark.parametrize("metric", ["sessions", "revenue", "orders_per_session", "orders"])
def test_same_effect_interval_and_p_value_as_tea_tasting(both, metric):
    theirs, ours = both
    reference, effect = theirs[metric], ours[metric]
    low, high = effect.interval(0.95)
    assert effect.effect == pytest.approx(reference.effect_size, rel=1e-6)
    width = reference.effect_size_ci_upper - reference.effect_size_ci_lower
    # tea-tasting uses a t quantile for the ratio too, we a normal one: 0.06% of the width at ~2000 df
    assert (low, high) == pytest.approx((reference.effect_size_ci_lower, reference.effect_size_ci_upper),
                                        abs=2e-3 * width)
    assert effect.p_value == pytest.approx(reference.pvalue, rel=2e-2)
    assert effect.relative_effect == pytest.approx(reference.rel_effect_size, rel=1e-6)
    if metric == "orders":
        assert effect.cuped > 0.1  # the covariate explains part of the variance: the interval is narrower


def test_ratio_cuped_matches_tea_tasting(tmp_path):
    data = tt.make_users_data(rng=7, covariates=True, n_users=4000)
    reference = tt.Experiment(
        cuped_ratio=tt.RatioOfMeans("orders", "sessions", "orders_covariate", "sessions_covariate"),
        plain_ratio=tt.RatioOfMeans("orders", "sessions"),
    ).analyze(data)
    path = tmp_path / "users.parquet"
    pq.write_table(pa.table({
        "unit_id": pc.cast(data.column("user"), pa.string()),
        "variant": pa.array(np.where(data.column("variant").to_numpy() == 1, "treatment", "control")),
        "orders": data.column("orders"), "sessions": data.column("sessions"),
        "orders__pre": data.column("orders_covariate"), "sessions__pre": data.column("sessions_covariate"),
    }), path)
    config = MetricsConfig(ratios={"ops": Ratio(numerator="orders", denominator="sessions")})
    ours = {e.metric: e for e in analyze(load_units(path, config, Quarantine()), config).effects}["ops"]
    theirs = reference["cuped_ratio"]
    assert ours.control_value == pytest.approx(theirs.control, rel=1e-9)
    assert ours.treatment_value == pytest.approx(theirs.treatment, rel=1e-9)
    width = theirs.effect_size_ci_upper - theirs.effect_size_ci_lower
    assert ours.interval(0.95) == pytest.approx((theirs.effect_size_ci_lower, theirs.effect_size_ci_upper),
                                                abs=2e-3 * width)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=2e-2)
    plain = reference["plain_ratio"]
    assert 0 < ours.cuped < 1 and width < plain.effect_size_ci_upper - plain.effect_size_ci_lower
