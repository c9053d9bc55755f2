"""Metadata helpers for the Dagster UI."""

from __future__ import annotations

import polars as pl
from dagster import MetadataValue


def markdown_preview(frame: pl.DataFrame, rows: int = 10) -> MetadataValue:
    """A small markdown table of the first rows, for previews in the UI."""
    head = frame.head(rows)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join("" if v is None else str(v).replace("|", "\\|") for v in row)
              + " |" for row in head.iter_rows()]
    return MetadataValue.md("\n".join(lines))
