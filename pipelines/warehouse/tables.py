"""The warehouse tables of contract §2.1 with their comments: the one source of truth
for DDL and the data dictionary (`COMMENT ON` every table and column). migrations.py
creates them."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl


@dataclass(frozen=True)
class Table:
    name: str  # schema.table
    comment: str
    columns: tuple[tuple[str, str, str], ...]  # (name, type, comment)
    keys: tuple[str, ...] = ()  # the columns that identify a row, checked by `census check`


_REGISTER_COLUMNS = (
    ("centre_id", "VARCHAR", "Centre ID: DC + 6-digit GB/T 2260 code + '-' + 4 digits"),
    ("centre_name", "VARCHAR", "Centre name as registered"),
    ("operator_name", "VARCHAR", "Operating entity"),
    ("operator_uscc", "VARCHAR", "Operator's Unified Social Credit Code (GB 32100-2015)"),
    ("province", "VARCHAR", "Province as written in the submission"),
    ("city", "VARCHAR", "City as written in the submission"),
    ("hub", "VARCHAR", "Hub as written in the submission (checked against the province)"),
    ("cluster", "VARCHAR", "Cluster as written in the submission"),
    ("design_racks", "BIGINT", "Design capacity in 2.5 kW standard racks"),
    ("design_it_kw", "DOUBLE", "Design IT load in kW (MW submissions converted)"),
    ("design_pue", "DOUBLE", "Design power usage effectiveness"),
    ("centre_type", "VARCHAR", "general, intelligent or supercomputing"),
    ("design_pflops", "DOUBLE", "Design compute in PFLOPS"),
    ("licence_no", "VARCHAR", "Licence number"),
    ("licence_issued", "DATE", "Licence issue date"),
    ("licence_expires", "DATE", "Licence expiry date"),
    ("commissioned", "DATE", "Commissioning date"),
    ("status", "VARCHAR", "operating, construction, suspended, revoked or closed"),
    ("province_code", "VARCHAR", "2-digit GB/T 2260 province code"),
    ("hub_code", "VARCHAR", "Hub of the province (reference/hubs.csv); null outside hubs"),
    ("cluster_code", "VARCHAR", "Cluster code (reference/clusters.csv)"),
)
_LINEAGE = (
    ("source_file", "VARCHAR", "Path of the submission under the landing folder"),
    ("source_sheet", "VARCHAR", "Sheet of the submission"),
    ("source_row", "BIGINT", "Row number as the spreadsheet program shows it (1-based)"),
)

TABLES: tuple[Table, ...] = (
    Table("core.dim_province", "Provinces with GB/T 2260 codes, NBS region and hub", (
        ("province_code", "VARCHAR", "2-digit GB/T 2260 code"),
        ("name_zh", "VARCHAR", "Full Chinese name"),
        ("name_short_zh", "VARCHAR", "Short Chinese name"),
        ("name_en", "VARCHAR", "English name"),
        ("nbs_region", "VARCHAR", "NBS region: east, central, west, northeast"),
        ("hub_code", "VARCHAR", "National hub the province belongs to; null if none"),
    )),
    Table("core.dim_hub", "National computing hubs of the Eastern Data, Western Computing plan", (
        ("hub_code", "VARCHAR", "Hub code"),
        ("name_zh", "VARCHAR", "Chinese name"),
        ("name_en", "VARCHAR", "English name"),
        ("side", "VARCHAR", "east (demand) or west (supply)"),
        ("ref_city", "VARCHAR", "Reference city for latency estimates"),
        ("ref_lat", "DOUBLE", "Reference latitude, degrees"),
        ("ref_lon", "DOUBLE", "Reference longitude, degrees"),
    )),
    Table("core.dim_cluster", "Data-centre clusters inside the hubs", (
        ("cluster_code", "VARCHAR", "Cluster code"),
        ("name_zh", "VARCHAR", "Chinese name"),
        ("name_en", "VARCHAR", "English name"),
        ("hub_code", "VARCHAR", "Hub of the cluster"),
        ("province_codes", "VARCHAR[]", "Provinces the cluster spans"),
    )),
    Table("core.register_rows",
          "Every accepted register row of every submission (before versioning)", (
        *_REGISTER_COLUMNS,
        ("as_of", "DATE", "Vintage of the submission row"),
        *_LINEAGE,
        ("sha256", "VARCHAR", "SHA-256 of the submission file"),
        ("load_order", "BIGINT", "Order in which the submission was loaded (within one run, "
                                 "path order): a later one corrects an earlier one"),
        ("replaced_by", "VARCHAR", "Submission loaded later whose row for the same centre and "
                                   "as-of replaced this one (a correction); null while it stands"),
    )),
    Table("core.centre_register",
          "Licensing register, one row per centre and version; state on day d = the version "
          "with valid_from <= d < valid_to", (
        *_REGISTER_COLUMNS,
        ("valid_from", "DATE", "As-of date of the submission this version comes from"),
        ("valid_to", "DATE", "As-of date of the next version (exclusive); null = open"),
        ("is_current", "BOOLEAN", "True for the latest version"),
        *_LINEAGE,
    ), keys=("centre_id", "valid_from")),
    Table("core.telemetry_hourly",
          "Telemetry per centre and hour (UTC): the mean of the samples in the hour, from the "
          "latest file that carried that hour (restatements replace earlier files' hours)", (
        ("centre_id", "VARCHAR", "Centre ID (in the register)"),
        ("hour_start", "TIMESTAMPTZ", "Start of the hour, UTC"),
        ("racks_in_use", "DOUBLE", "Racks in use, mean of the hour's samples"),
        ("it_load_kw", "DOUBLE", "IT load in kW, mean"),
        ("facility_load_kw", "DOUBLE", "Facility load in kW, mean"),
        ("cpu_util_pct", "DOUBLE", "CPU utilisation in %, mean"),
        ("gpu_util_pct", "DOUBLE", "GPU utilisation in %, mean over samples carrying it"),
        ("compute_capacity_pflops", "DOUBLE", "Compute capacity in PFLOPS, mean"),
        ("compute_used_pflops", "DOUBLE", "Compute used in PFLOPS, mean"),
        ("samples", "BIGINT", "Distinct samples in the hour"),
        ("source_file", "VARCHAR", "File the hour's samples come from"),
    ), keys=("centre_id", "hour_start")),
    Table("core.telemetry_pending",
          "Telemetry samples of centres not (yet) in the register: re-examined every run and "
          "loaded once the centre is registered", (
        ("file_name", "VARCHAR", "Path under the landing folder"),
        ("sha256", "VARCHAR", "SHA-256 of the file"),
        ("source_row", "BIGINT", "Line (CSV, JSON lines) or record (Parquet) number"),
        ("centre_id", "VARCHAR", "Centre ID as sent"),
        ("ts", "TIMESTAMPTZ", "Sample time, UTC"),
        *((name, "DOUBLE", f"{name}, canonical unit") for name in (
            "racks_in_use", "it_load_kw", "facility_load_kw", "cpu_util_pct", "gpu_util_pct",
            "compute_capacity_pflops", "compute_used_pflops")),
    )),
    Table("audit.telemetry_loads", "Centre-hours each telemetry load wrote, by month", (
        ("run_id", "VARCHAR", "Dagster run"),
        ("file_name", "VARCHAR", "File whose samples were loaded"),
        ("month", "DATE", "Month (China time) of the hours"),
        ("centre_hours", "BIGINT", "Centre-hours written"),
        ("replaced", "BIGINT", "Of those, centre-hours an earlier file had loaded (restated)"),
        ("loaded_at", "TIMESTAMPTZ", "When"),
    )),
    Table("audit.model_builds", "Which month of which SQL model each run built", (
        ("model", "VARCHAR", "schema.table of the model"),
        ("month", "DATE", "Month built (monthly models)"),
        ("run_id", "VARCHAR", "Dagster run"),
        ("built_at", "TIMESTAMPTZ", "When"),
        ("engine", "VARCHAR", "What built it: duckdb, or spark (CENSUS_ENGINE)"),
    )),
    Table("audit.ingestion_log", "One row per file and ingestion attempt", (
        ("file_name", "VARCHAR", "Path under the landing folder"),
        ("sha256", "VARCHAR", "SHA-256 of the file's bytes"),
        ("kind", "VARCHAR", "licensing or telemetry"),
        ("rows_read", "BIGINT", "Data rows read (footers and empty rows excluded)"),
        ("rows_loaded", "BIGINT", "Rows accepted"),
        ("rows_rejected", "BIGINT", "Rows rejected (see audit.quarantine)"),
        ("rows_warned", "BIGINT", "Rows accepted with a warning"),
        ("status", "VARCHAR", "loaded, skipped_duplicate or rejected"),
        ("message", "VARCHAR", "Why a file was rejected or skipped; remarks"),
        ("started_at", "TIMESTAMPTZ", "Attempt start"),
        ("finished_at", "TIMESTAMPTZ", "Attempt end"),
        ("run_id", "VARCHAR", "Dagster run that made the attempt"),
    ), keys=("file_name", "sha256")),
    Table("audit.deliveries", "One row per attempt to mail a month's export", (
        ("month", "DATE", "Month exported"),
        ("recipients", "VARCHAR", "Addresses, comma-separated"),
        ("message_id", "VARCHAR", "Message-ID of the mail"),
        ("status", "VARCHAR", "sent or failed"),
        ("attempts", "BIGINT", "Tries made (with backoff) before success or giving up"),
        ("workbook_sha256", "VARCHAR", "SHA-256 of the workbook mailed"),
        ("error", "VARCHAR", "Why the last try failed"),
        ("run_id", "VARCHAR", "Dagster run"),
        ("attempted_at", "TIMESTAMPTZ", "When the delivery finished or gave up"),
    )),
    Table("audit.run_failures", "One row per failed Dagster run (the run-failure sensor)", (
        ("run_id", "VARCHAR", "Dagster run"),
        ("job_name", "VARCHAR", "Job of the run"),
        ("steps", "VARCHAR", "Failed steps (assets), comma-separated"),
        ("reason", "VARCHAR", "The innermost error of the first failed step"),
        ("failed_at", "TIMESTAMPTZ", "When the failure was recorded"),
        ("alerted", "VARCHAR", "Addresses the alert was mailed to; null if none"),
        ("alert_error", "VARCHAR", "Why the alert mail failed, if it did"),
    )),
    Table("audit.quarantine", "One row per rejected or warned value", (
        ("file_name", "VARCHAR", "Path under the landing folder"),
        ("sha256", "VARCHAR", "SHA-256 of the file"),
        ("sheet", "VARCHAR", "Sheet (workbooks)"),
        ("source_row", "BIGINT", "Row as a person finds it in the file"),
        ("centre_id", "VARCHAR", "Centre ID of the row, as written"),
        ("column_name", "VARCHAR", "Canonical column"),
        ("value", "VARCHAR", "Value as written"),
        ("rule", "VARCHAR", "Contract rule broken"),
        ("severity", "VARCHAR", "error (row rejected) or warning (row kept)"),
        ("message", "VARCHAR", "What is wrong, naming file, sheet, row and column"),
        ("resolved_at", "TIMESTAMPTZ", "When a later run resolved the finding"),
        ("observed_at", "TIMESTAMPTZ", "Telemetry: the sample's time, where it could be read"),
    )),
)

SCHEMAS = ("core", "audit", "marts")


def column_names(table: str) -> list[str]:
    return [name for name, _, _ in next(t for t in TABLES if t.name == table).columns]


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Append a polars frame to a warehouse table, matching columns by name."""
    con.register("_incoming", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")


def run_statements(con: duckdb.DuckDBPyConnection, statements: list[str],
                   params: dict[str, object]) -> None:
    """Run SQL statements in order, each with the named parameters it uses ($name):
    values are always bound, never formatted into the SQL."""
    for statement in statements:
        used = {k: v for k, v in params.items() if f"${k}" in statement}
        con.execute(statement, used) if used else con.execute(statement)
