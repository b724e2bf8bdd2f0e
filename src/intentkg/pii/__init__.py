"""Personal data in query text, found with Presidio recognisers and replaced by placeholders.

    scrub("call 555-867-5309 about strollers").text   # -> "call [PHONE] about strollers"

Everything that keys a query goes through :func:`intentkg.query_key.clean_query`, which scrubs
with this package first; nothing else should call :func:`scrub` on a query directly. See
docs/ingest.md (PII scrubbing) for what is and is not caught.
"""

from intentkg.pii.engine import description
from intentkg.pii.scrub import PLACEHOLDERS, ScrubResult, scrub

__all__ = ["PLACEHOLDERS", "ScrubResult", "description", "scrub"]
