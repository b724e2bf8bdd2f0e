"""Section: the ESCI knowledge-injection test; the rendering lives with the evaluation."""

from intentkg.eval import report_section  # noqa: F401  (registers the "eval-esci" section)
