"""What every source reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass
class SourceTables:
    products: pa.Table  # PRODUCTS schema
    behaviors: pa.Table  # intentkg.ingest.rows.RAW_BEHAVIORS
    counts: dict[str, Any] = field(default_factory=dict)  # reader-specific numbers for the manifest
