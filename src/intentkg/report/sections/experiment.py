"""Section: the A/B read-out and metric pruning; the rendering lives with the experiment package."""

from intentkg.experiment import report_section  # noqa: F401  (registers the "experiment" section)
