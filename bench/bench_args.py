"""The command line of a bench script, in one place: ``--name`` options from keyword defaults.

    args = bench_args.parse(__doc__, steps=12, threads=(None, int, "torch threads"), json=(None, str, "write here"))

A value is the default (its type is the option's type) or ``(default, type, help)``. The description
is the first line of the script's docstring, so ``--help`` says what the script measures.
"""

from __future__ import annotations

import argparse
from typing import Any


def parse(doc: str | None, argv: list[str] | None = None, **options: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0] if doc else None,
                                     epilog="\n".join((doc or "").strip().splitlines()[1:]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, spec in options.items():
        default, kind, text = spec if isinstance(spec, tuple) else (spec, type(spec), None)
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=default, help=text)
    return parser.parse_args(argv)
