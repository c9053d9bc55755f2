"""`census bench`: national-scale inputs and the measurement of the pipeline against raw
DuckDB (README: Performance)."""

# The scale the bench's targets are set for: the nation's centres and a year of telemetry.
FULL_SCALE = {"centres": 7000, "months": 12}
