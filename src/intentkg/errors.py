"""User-facing errors: each says which file, row and column is wrong and what to change."""

from __future__ import annotations


class IntentkgError(Exception):
    """Base class for errors the CLI prints without a traceback."""


class InputError(IntentkgError):
    """Input data or configuration that cannot be used as given."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None, hint: str | None = None):
        self.file, self.row, self.column, self.hint = file, row, column, hint
        where = []
        if file:
            where.append(f"file {file}")
        if row is not None:
            where.append(f"row {row}")
        if column:
            where.append(f"column {column!r}")
        text = (", ".join(where) + ": " if where else "") + message
        if hint:
            text += f" -> {hint}"
        super().__init__(text)


class ConfigError(IntentkgError):
    """A configuration value that is missing or invalid."""
