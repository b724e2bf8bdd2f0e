"""Personal data in query text: found and replaced by placeholders (``[EMAIL]``, ``[PHONE]``, ...).

    scrub("call 555-867-5309 about strollers").text   # -> "call [PHONE] about strollers"

Everything that keys a query goes through :func:`intentkg.query_key.clean_query`, which scrubs
with this package first; nothing else should call :func:`scrub` on a query directly.
"""

from intentkg.pii.patterns import ScrubResult, scrub

__all__ = ["ScrubResult", "scrub"]
