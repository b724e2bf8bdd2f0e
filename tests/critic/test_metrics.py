"""Evaluation metrics, threshold choice and calibration on known numbers."""

from __future__ import annotations

import numpy as np
import pytest

from intentkg.critic.calibrate import fit_platt, fold_platt, sigmoid
from intentkg.critic.metrics import evaluate, expected_calibration_error, precision_at_recall
from intentkg.critic.threshold import threshold_for_precision


def test_evaluate_known_values():
    y = [1, 1, 1, 0, 0, 0]
    p = [0.9, 0.8, 0.4, 0.6, 0.2, 0.1]
    m = evaluate(y, p, threshold=0.5)
    assert m["roc_auc"] == pytest.approx(8 / 9, abs=1e-4)
    assert m["precision"] == pytest.approx(2 / 3, abs=1e-4) and m["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["precision_at_recall"]["0.5"] == 1.0  # 0.8 as threshold: 2 of 2 right, recall 2/3
    assert m["precision_at_recall"]["0.9"] == 0.75
    assert evaluate([1, 1], [0.3, 0.9])["roc_auc"] is None  # one class: undefined, not a crash
    assert precision_at_recall(np.array([0, 0]), np.array([0.1, 0.2]), 0.5) is None


def test_ece_is_zero_for_perfect_calibration():
    p = np.array([0.25] * 4 + [0.75] * 4)
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    assert expected_calibration_error(y, p) == pytest.approx(0.0)
    assert expected_calibration_error(np.array([0, 0]), np.array([0.9, 0.9])) == pytest.approx(0.9)


def test_threshold_for_target_precision_keeps_most_recall():
    y = [1, 1, 1, 0, 1, 0, 0, 0]
    p = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.3, 0.1]
    t = threshold_for_precision(y, p, 0.75)
    assert t["target_met"] and t["threshold"] == 0.7 and t["dev_recall"] == 1.0 and t["dev_precision"] == 0.8
    strict = threshold_for_precision(y, p, 1.0)
    assert strict["threshold"] == 0.85 and strict["dev_recall"] == 0.75
    impossible = threshold_for_precision([0, 1], [0.9, 0.1], 0.99)
    assert impossible["target_met"] is False


def test_platt_recovers_scale_and_folds_into_a_real_classifier():
    torch = pytest.importorskip("torch")
    from transformers import BertConfig, BertForSequenceClassification

    rng = np.random.default_rng(0)
    margins = rng.normal(size=4000)
    labels = (rng.random(4000) < sigmoid(0.5 * margins - 0.3)).astype(int)
    a, b = fit_platt(margins, labels)
    assert a == pytest.approx(0.5, abs=0.1) and b == pytest.approx(-0.3, abs=0.1)
    assert fit_platt([0.1, 0.2], [1, 1]) == (1.0, 0.0)
    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=32, num_labels=2)).eval()
    ids = torch.randint(0, 50, (5, 7))
    with torch.no_grad():
        before = model(input_ids=ids).logits
        fold_platt(model, 0.5, -0.3)
        after = torch.softmax(model(input_ids=ids).logits, dim=-1)[:, 1]
    expected = sigmoid(0.5 * (before[:, 1] - before[:, 0]).numpy() - 0.3)
    assert after.numpy() == pytest.approx(expected, abs=1e-5)
