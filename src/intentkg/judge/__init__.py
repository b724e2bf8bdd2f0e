"""An LLM judge in the RULER style: one call scores a group of candidates for the same behaviour
relative to each other (0-1 and a short reason each), validated against a schema with bounded
retries, cached like generation, and measured against the human labels (docs/judge.md)."""
