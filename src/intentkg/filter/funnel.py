"""The funnel: how many candidates survive each filter step, by behaviour kind and relation, with reasons.

Built from view batches (:mod:`intentkg.filter.view`) in one pass, so it works for any number of rows.
A candidate leaves the funnel at the first step that rejects it (``drop_step``); reason counts count
every reason of every rejected row, so one row can add to several reasons.

COSMO (Yu et al., SIGMOD 2024) kept about 9% of co-buy and 35% of search-buy explanations after its
rules and critic; ``COSMO_KEPT_SHARE`` is printed beside the kept share of each kind as the
reference a small generator's output should land near (far above it means the filter lets the
model's copies and generic answers through).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
from rich.console import Console
from rich.table import Table

from intentkg.filter.view import STEPS

COSMO_KEPT_SHARE = {"co_buy": 0.09, "search_buy": 0.35}


class Funnel:
    def __init__(self) -> None:
        self.totals: Counter = Counter()  # (kind, relation) -> rows
        self.dropped: Counter = Counter()  # (kind, relation, step) -> rows that left at this step
        self.reasons: Counter = Counter()  # (kind, reason) -> rows with this reason
        self.first_reasons: Counter = Counter()  # (kind, reason) -> rows whose first reason it is

    def add(self, batch: pa.Table) -> None:
        """Count a view batch (needs kind, relation, reasons, drop_step)."""
        kinds = batch.column("kind").to_pylist()
        relations = batch.column("relation").to_pylist()
        steps = batch.column("drop_step").to_pylist()
        reasons = batch.column("reasons").to_pylist()
        for kind, relation, step, row_reasons in zip(kinds, relations, steps, reasons):
            kind, relation = kind or "?", relation or "?"
            self.totals[(kind, relation)] += 1
            if step is not None:
                self.dropped[(kind, relation, step)] += 1
                for reason in row_reasons:
                    self.reasons[(kind, reason)] += 1
                self.first_reasons[(kind, row_reasons[0])] += 1

    # -- summaries ----------------------------------------------------------------------------
    def _summary(self, keep) -> dict[str, Any]:
        total = sum(n for key, n in self.totals.items() if keep(key))
        left = total
        survivors = {}
        for step in STEPS:
            left -= sum(n for (k, r, s), n in self.dropped.items() if s == step and keep((k, r)))
            survivors[step] = left
        return {"candidates": total, "survivors": survivors, "kept": left,
                "kept_share": round(left / total, 4) if total else None}

    def kinds(self) -> list[str]:
        return sorted({k for k, _ in self.totals})

    def relations(self) -> list[str]:
        return sorted({r for _, r in self.totals})

    def total(self) -> dict[str, Any]:
        return self._summary(lambda key: True)

    def by_kind(self) -> dict[str, dict[str, Any]]:
        return {kind: self._summary(lambda key, kind=kind: key[0] == kind) for kind in self.kinds()}

    def by_relation(self) -> dict[str, dict[str, Any]]:
        return {rel: self._summary(lambda key, rel=rel: key[1] == rel) for rel in self.relations()}

    def reason_counts(self, kind: str | None = None, first: bool = False) -> dict[str, int]:
        source = self.first_reasons if first else self.reasons
        counts: Counter = Counter()
        for (k, reason), n in source.items():
            if kind is None or k == kind:
                counts[reason] += n
        return dict(counts.most_common())

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": list(STEPS),
            "total": self.total(),
            "by_kind": self.by_kind(),
            "by_relation": self.by_relation(),
            "by_kind_relation": {f"{k}/{r}": self._summary(lambda key, k=k, r=r: key == (k, r))
                                 for k, r in sorted(self.totals)},
            "reasons": self.reason_counts(),
            "first_reasons": self.reason_counts(first=True),
            "reasons_by_kind": {kind: self.reason_counts(kind) for kind in self.kinds()},
            "cosmo_kept_share": {kind: COSMO_KEPT_SHARE[kind] for kind in self.kinds() if kind in COSMO_KEPT_SHARE},
        }

    # -- printing -----------------------------------------------------------------------------
    def print(self, console: Console | None = None, title: str = "filter funnel") -> None:
        console = console or Console()
        columns = {"all": self.total(), **self.by_kind()}
        table = Table(title=title)
        table.add_column("step")
        for name in columns:
            table.add_column(name, justify="right")
        table.add_row("candidates", *[f"{c['candidates']:,}" for c in columns.values()])
        for step in STEPS:
            table.add_row(f"after {step}", *[_share(c["survivors"][step], c["candidates"]) for c in columns.values()])
        table.add_row("COSMO kept", *[f"{100 * COSMO_KEPT_SHARE[k]:.0f}%" if k in COSMO_KEPT_SHARE else ""
                                      for k in columns])
        console.print(table)
        reasons = Table(title="rejection reasons (a row can have several)")
        reasons.add_column("reason")
        for name in columns:
            reasons.add_column(name, justify="right")
        for reason in self.reason_counts():
            reasons.add_row(reason, *[f"{self.reason_counts(None if k == 'all' else k).get(reason, 0):,}"
                                      for k in columns])
        console.print(reasons)
        relations = Table(title="by relation")
        for column in ("relation", "candidates", "kept", "kept %"):
            relations.add_column(column, justify="left" if column == "relation" else "right")
        for rel, summary in self.by_relation().items():
            relations.add_row(rel, f"{summary['candidates']:,}", f"{summary['kept']:,}",
                              f"{100 * (summary['kept_share'] or 0):.1f}")
        console.print(relations)


def _share(n: int, total: int) -> str:
    return f"{n:,} ({100 * n / total:.1f}%)" if total else "0"


def kept_count(batch: pa.Table) -> int:
    return int(np.asarray(batch.column("kept").to_numpy(zero_copy_only=False)).sum())
