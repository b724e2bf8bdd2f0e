"""Personal data in query text, found with Presidio recognisers and replaced by placeholders.

    scrub("call 555-867-5309 about strollers").text   # -> "call [PHONE] about strollers"

Everything that keys a query goes through :func:`intentkg.query_key.clean_query`, which scrubs
with this package first; nothing else should call :func:`scrub` on a query directly. See
docs/ingest.md (PII scrubbing) for what is and is not caught.
"""

from intentkg.pii.engine import analyzer, description
from intentkg.pii.scrub import PLACEHOLDERS, ScrubResult, scrub

__all__ = ["PLACEHOLDERS", "ScrubResult", "description", "prepare", "scrub"]


def prepare() -> None:
    """Build the analyzer now (a second or more: Presidio and spaCy load); a server calls this at start
    so that its first request holding a digit does not pay for it."""
    analyzer()
