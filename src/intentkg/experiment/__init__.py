"""Online A/B read-out of knowledge injection: Welch / delta-method / CUPED effects with intervals,
a sample-ratio-mismatch gate, multiple-testing corrections over the decision family only, metric
pruning (correlation, PCA, clusters) and power. See docs/experiment.md."""
