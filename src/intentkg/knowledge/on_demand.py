"""Knowledge for queries the KG has never seen: generated and filtered on demand.

    facts = generate_for_queries("ws", ["gifts for a new dad"])   # -> [[Fact, ...]], one list per query

The same batch path fills the serving cache's second tier and the ESCI evaluation's unseen
queries. (Placeholder until the generate and filter stages expose their batch APIs.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from intentkg.errors import ConfigError
from intentkg.knowledge.facts import Fact


def generate_for_queries(workspace: Any, queries: Sequence[str], config: Path | str | None = None,
                         stats: dict | None = None) -> list[list[Fact]]:
    raise ConfigError("on-demand knowledge needs the generate and filter stages' batch APIs, which are not "
                      "available in this version yet")
