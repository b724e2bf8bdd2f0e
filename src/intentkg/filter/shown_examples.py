"""Which worked answers a candidate's prompt showed, when the candidate does not record it.

Candidates record ``shown_examples`` since few-shot pools were added; older ones do not. Their
prompts showed the relation's default shots (the first example of each kind), taken here from the
relation schema the generate stage ran with (its ``relations_file`` and ``extra_relations``).
"""

from __future__ import annotations

from intentkg.errors import ConfigError
from intentkg.workspace import Workspace


def default_shown(ws: Workspace) -> dict[str, list[str]]:
    """relation -> tails of its default shots, for the schema of the workspace's generate run."""
    from intentkg.generate.examples import default_shots
    from intentkg.generate.relations import load_schema

    manifest = ws.manifest("generate")
    config = manifest.config if manifest is not None else {}
    try:
        schema = load_schema(config.get("relations_file"), config.get("extra_relations") or None)
    except ConfigError:  # the file moved since: the packaged schema's defaults are the best guess
        schema = load_schema()
    return {name: [t for _, ex in default_shots(relation) for t in ex.tails]
            for name, relation in schema.relations.items()}
