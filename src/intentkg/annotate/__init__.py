"""Human annotation: sampling, the SQLite store, the web app, agreement, import and export.

The flow follows COSMO's protocol: a stratified, popularity-weighted sample of candidates; five
yes/no questions per candidate; two annotators per item; a resolver for disagreements; a pilot
batch and a 5% audit. See docs/annotate.md.
"""

from intentkg.annotate.questions import QUESTIONS, Question

__all__ = ["QUESTIONS", "Question"]
