"""Telemetry batches → canonical typed samples (units, UTC) → the row rules of §1.2.
Vectorised on polars; pure: no warehouse, no Dagster."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from pandera.errors import SchemaErrors

from pipelines.ingest.values import norm_key
from schemas.rules import Rule, Severity
from schemas.telemetry import MEASURES, TELEMETRY_COLUMNS, TELEMETRY_ROW_RULES

ALIASES = {norm_key(alias): (column.name, factor)
           for column in TELEMETRY_COLUMNS for alias, factor in column.aliases.items()}
REQUIRED = [c.name for c in TELEMETRY_COLUMNS if c.required]
CHINA = "Asia/Shanghai"
FINDINGS_SCHEMA = {
    "source_row": pl.Int64, "centre_id": pl.String, "column_name": pl.String,
    "value": pl.String, "rule": pl.String, "severity": pl.String, "message": pl.String,
    "observed_at": pl.Datetime("us", "UTC"),
}
SAMPLE_COLUMNS = ["source_row", "centre_id", "ts", *MEASURES]

_REASONS = {
    ("racks_in_use", Rule.OUT_OF_RANGE): "racks in use must be 0 or more and at most 1.1 × "
                                         "the centre's design racks",
    ("it_load_kw", Rule.OUT_OF_RANGE): "IT load must be 0 or more",
    ("facility_load_kw", Rule.INCONSISTENT): "facility load is below the IT load",
    ("cpu_util_pct", Rule.OUT_OF_RANGE): "CPU utilisation must be within 0–100 %",
    ("gpu_util_pct", Rule.OUT_OF_RANGE): "GPU utilisation must be within 0–100 %",
    ("compute_capacity_pflops", Rule.OUT_OF_RANGE): "compute capacity must be 0 or more",
    ("compute_used_pflops", Rule.OUT_OF_RANGE): "compute used must be 0 or more",
    ("compute_used_pflops", Rule.INCONSISTENT): "compute used is above the capacity",
}


class ExportRejected(Exception):
    """The whole export is rejected; the message is the reason."""


def column_map(columns: list[str]) -> dict[str, tuple[str, float]]:
    """canonical -> (the file's column, unit factor). The first matching column wins."""
    found: dict[str, tuple[str, float]] = {}
    for column in columns:
        hit = ALIASES.get(norm_key(column))
        if hit and hit[0] not in found:
            found[hit[0]] = (column, hit[1])
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise ExportRejected(f"no column for {', '.join(missing)} (columns found: "
                             f"{', '.join(c for c in columns if c != 'source_row')})")
    return found


def parse_timestamps(text: pl.Expr) -> pl.Expr:
    """ISO 8601 with an offset; without one it is China time (UTC+8); integer epoch
    seconds or milliseconds. Returns UTC instants, null where unreadable."""
    t = text.str.strip_chars()
    epoch = pl.when(t.str.contains(r"^\d{9,13}$")).then(t.cast(pl.Int64, strict=False))
    iso = t.str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T").str.replace(r"[Zz]$", "+00:00")
    with_offset = [iso.str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC")
                   for f in ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z")]
    naive = [iso.str.to_datetime(f, strict=False, time_unit="us")
             .dt.replace_time_zone(CHINA, non_existent="null").dt.convert_time_zone("UTC")
             for f in ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M")]
    from_epoch = pl.when(epoch >= 10**11).then(epoch * 1000).otherwise(epoch * 1_000_000)
    return pl.coalesce(
        pl.when(epoch.is_not_null()).then(from_epoch.cast(pl.Datetime("us", "UTC"))),
        *with_offset, *naive)


def parse_timestamp_column(text: pl.Series) -> pl.Series:
    """parse_timestamps on a column, faster: the common form (ISO 8601 with `T` and an
    offset or `Z`) in one pass, the general parser only for the rows it leaves."""
    fast = text.str.strip_chars().str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_unit="us", time_zone="UTC")
    return _fill_rest(fast, text, lambda rest: pl.select(parse_timestamps(pl.lit(rest)))
                      .to_series())


def parse_number_column(text: pl.Series, decimal_comma: bool) -> pl.Series:
    """parse_numbers on a column: plain numbers cast in one pass (the general parser
    gives them the same value), the rest (spaces, thousands separators, decimal
    commas) by the general parser."""
    fast = pl.select(pl.lit(text).cast(pl.Float64, strict=False).pipe(
        lambda n: pl.when(n.is_finite()).then(n))).to_series()
    return _fill_rest(fast, text.cast(pl.String), lambda rest: pl.select(
        parse_numbers(pl.lit(rest), decimal_comma)).to_series())


def _fill_rest(fast: pl.Series, text: pl.Series,
               general: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """`fast`, with the rows it left null (where there is text) from `general`."""
    rest = (fast.is_null() & text.is_not_null()).arg_true()
    if rest.len() == 0:
        return fast
    return fast.scatter(rest, general(text.gather(rest)))


def parse_numbers(text: pl.Expr, decimal_comma: bool) -> pl.Expr:
    """Numbers as exporters write them; with `;` separators a comma is the decimal mark."""
    t = text.str.strip_chars()
    t = t.str.replace(",", ".", literal=True) if decimal_comma else t.str.replace_all(",", "")
    number = t.cast(pl.Float64, strict=False)
    return pl.when(number.is_finite()).then(number)


INVALID_TEXT = "\ufffd"  # what the CSV reader puts for bytes that are not UTF-8


def canonical_samples(batch: pl.DataFrame, mapping: dict[str, tuple[str, float]],
                      decimal_comma: bool, file_name: str, row_word: str
                      ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed samples (SAMPLE_COLUMNS, plus `_raw_*` text for findings) and the parse
    findings (missing, unparseable). Rows with a finding are left out of the samples."""
    typed = batch.select(
        "source_row",
        **{f"_raw_{name}": pl.col(source).cast(pl.String)
           for name, (source, _) in mapping.items()},
    )
    typed = typed.with_columns(
        centre_id=pl.col("_raw_centre_id").str.strip_chars().str.to_uppercase(),
        ts=parse_timestamp_column(typed["_raw_ts"]),
        **{name: (parse_number_column(batch[mapping[name][0]], decimal_comma)
                  * mapping[name][1] if name in mapping else pl.lit(None, pl.Float64))
           for name in MEASURES},
    ).with_columns(pl.when((pl.col("centre_id") != "") & ~pl.col("centre_id").str.contains(
        INVALID_TEXT, literal=True)).then(pl.col("centre_id")).alias("centre_id"))
    # A row can have a finding only where a parsed value is null (a required one, or an
    # optional one with text): cheap null tests find those rows, and the findings are
    # told apart (missing or unparseable) on them alone.
    suspect = pl.any_horizontal(
        pl.col(c.name).is_null() if c.required else
        pl.col(c.name).is_null() & pl.col(f"_raw_{c.name}").is_not_null()
        for c in TELEMETRY_COLUMNS if c.name in mapping)
    marked = typed.with_columns(_suspect=suspect)
    flagged = marked.filter("_suspect")
    findings = []
    for column in TELEMETRY_COLUMNS:
        if column.name not in mapping:
            continue
        text = pl.col(f"_raw_{column.name}").str.strip_chars()
        empty = text.is_null() | (text == "")
        label = mapping[column.name][0]
        if column.required:
            findings.append(_findings(flagged, empty, column.name, Rule.MISSING, file_name,
                                      row_word, label, "a required value is empty"))
        reason = ("not valid UTF-8 text" if column.name == "centre_id" else
                  f"not a {'timestamp' if column.name == 'ts' else 'number'} of an accepted form")
        findings.append(_findings(flagged, ~empty & pl.col(column.name).is_null(), column.name,
                                  Rule.UNPARSEABLE, file_name, row_word, label, reason))
    found = pl.concat(findings)
    clean = marked.filter(
        ~pl.col("_suspect") | ~pl.col("source_row").is_in(found["source_row"].implode())
    ).drop("_suspect")
    return clean, found


def check_rules(samples: pl.DataFrame, register: pl.DataFrame, file_name: str, row_word: str,
                labels: dict[str, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The pandera row rules. `register` is (centre_id, valid_from, design_racks) of every
    version; racks are checked against the version valid on the sample's China date
    (the earliest where the sample precedes them all). Returns the passing samples with
    `known` (the centre is registered) and the findings."""
    dated = samples.with_columns(
        day=pl.col("ts").dt.convert_time_zone(CHINA).dt.date()).sort("day")
    versions = register.select("centre_id", "valid_from", "design_racks").sort("valid_from")
    earliest = versions.group_by("centre_id").agg(
        earliest_racks=pl.col("design_racks").first())
    joined = dated.join_asof(versions, left_on="day", right_on="valid_from", by="centre_id",
                             strategy="backward", check_sortedness=False,
                             ).join(earliest, on="centre_id", how="left")
    joined = joined.with_columns(
        design_racks=pl.coalesce("design_racks", "earliest_racks").cast(pl.Float64),
        known=pl.col("earliest_racks").is_not_null(),
    ).sort("source_row")
    try:
        TELEMETRY_ROW_RULES.validate(joined, lazy=True)
        failures = pl.DataFrame(schema={"index": pl.Int32, "column": pl.String,
                                        "check": pl.String})
    except SchemaErrors as exc:
        failures = exc.failure_cases.filter(pl.col("index").is_not_null()).select(
            "index", "column", "check")
    indexed = joined.with_row_index("index").with_columns(pl.col("index").cast(pl.Int32))
    failed = indexed.join(failures, on="index").unique(["index", "column", "check"])
    findings = failed.select(
        "source_row", "centre_id", column_name="column",
        value=pl.struct(pl.all()).map_elements(
            lambda r: r[f"_raw_{r['column']}"], return_dtype=pl.String),
        rule="check", severity=pl.lit(str(Severity.ERROR)),
        message=pl.format("{}, {} {}, column '{}': {} ({})", pl.lit(file_name), pl.lit(row_word),
                          "source_row", pl.col("column").replace_strict(labels, default=None),
                          pl.struct("column", "check").map_elements(
                              lambda r: _REASONS[(r["column"], Rule(r["check"]))],
                              return_dtype=pl.String), "check"),
        observed_at="ts",
    ).cast(FINDINGS_SCHEMA)
    passed = indexed.filter(~pl.col("index").is_in(failures["index"].implode()))
    return passed.select(*SAMPLE_COLUMNS, "known"), findings


def unknown_centre_message(file_name: str, row_word: str) -> str:
    """The message for an unknown centre (DuckDB format() placeholders: row, centre)."""
    return (f"{file_name}, {row_word} {{}}, column 'centre_id': centre {{}} is not in the "
            f"register; kept and loaded once it is registered ({Rule.UNKNOWN_CENTRE})")


def _findings(frame: pl.DataFrame, mask: pl.Expr, column: str, rule: Rule, file_name: str,
              row_word: str, label: str, reason: str) -> pl.DataFrame:
    return frame.filter(mask).select(
        "source_row", "centre_id", column_name=pl.lit(column),
        value=pl.col(f"_raw_{column}"), rule=pl.lit(str(rule)),
        severity=pl.lit(str(Severity.ERROR)),
        message=pl.format("{}, {} {}, column '{}': {} ({})", pl.lit(file_name), pl.lit(row_word),
                          "source_row", pl.lit(label), pl.lit(reason), pl.lit(str(rule))),
        observed_at="ts",
    ).cast(FINDINGS_SCHEMA)

