"""`census bench`: national-scale inputs and the measurement of the pipeline against raw
DuckDB (README: Performance)."""
