"""One register workbook → typed, validated rows and their quarantine findings.

Two steps: parsing text into typed values (missing, unparseable,
unknown_code), then the pandera row rules (out_of_range, inconsistent) and warnings
(check_digit, implausible). Pure: no warehouse, no Dagster."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from pipelines.ingest.values import (
    ValueRejected,
    clean_text,
    norm_key,
    parse_date,
    parse_integer,
    parse_number,
    period_from_filename,
)
from pipelines.ingest.workbook import SheetTable, WorkbookUnreadable, read_tables
from pipelines.reference import Reference
from schemas.register import (
    CENTRE_TYPES,
    REGISTER_COLUMNS,
    REGISTER_ROW_RULES,
    REGISTER_ROW_WARNINGS,
    STATUSES,
    RegisterColumn,
)
from schemas.rules import Rule, Severity

ALIASES: dict[str, tuple[str, float]] = {
    norm_key(alias): (column.name, scale)
    for column in REGISTER_COLUMNS
    for alias, scale in [(a, 1.0) for a in column.aliases] + list(column.unit_aliases)
}

# Canonical register columns as stored (as_of is the vintage, not a column of its own).
REGISTER_FIELDS = [c.name for c in REGISTER_COLUMNS if c.name != "as_of"]

# What makes two rows of the same centre and as-of "identical": every canonical value,
# with province/hub/cluster compared by code, not by how they were written.
CONTENT = [
    "centre_name", "operator_name", "operator_uscc", "city", "design_racks", "design_it_kw",
    "design_pue", "centre_type", "design_pflops", "licence_no", "licence_issued",
    "licence_expires", "commissioned", "status", "province_code", "hub_code", "cluster_code",
]

QUARANTINE_SCHEMA = {
    "sheet": pl.String, "source_row": pl.Int64, "centre_id": pl.String,
    "column_name": pl.String, "value": pl.String, "rule": pl.String,
    "severity": pl.String, "message": pl.String,
}

_DTYPES = {"integer": pl.Int64, "number": pl.Float64, "date": pl.Date}
_RULE_REASONS = {
    ("centre_id", Rule.INCONSISTENT): "its province digits disagree with the province",
    ("hub", Rule.INCONSISTENT): "is not the hub of the centre's province",
    ("cluster", Rule.INCONSISTENT): "does not belong to the centre's hub and province",
    ("design_racks", Rule.OUT_OF_RANGE): "must be 0 or more",
    ("design_it_kw", Rule.OUT_OF_RANGE): "must be 0 or more",
    ("design_pflops", Rule.OUT_OF_RANGE): "must be 0 or more",
    ("design_pue", Rule.OUT_OF_RANGE): "PUE below 1.0 is impossible",
    ("licence_expires", Rule.INCONSISTENT): "expires before the licence was issued",
    ("operator_uscc", Rule.CHECK_DIGIT): "fails the GB 32100-2015 check character",
    ("design_pue", Rule.IMPLAUSIBLE): "PUE above 3.0",
    ("design_it_kw", Rule.IMPLAUSIBLE): "IT load per standard rack outside 0.5–4 × 2.5 kW",
}


class FileRejected(Exception):
    """The whole file is rejected; the message is the reason a person can act on."""


@dataclass(frozen=True)
class RegisterSubmission:
    rows_read: int
    accepted: pl.DataFrame  # typed register rows + codes + as_of + lineage
    issues: pl.DataFrame  # QUARANTINE_SCHEMA
    rows_rejected: int
    rows_warned: int
    notes: tuple[str, ...]  # file-level remarks for the ingestion log


class RuleNotEvaluated(FileRejected):
    """A row rule pandera could not evaluate on a workbook's rows (its check raised, or a
    column is not of the rule's type): its rows would pass unchecked, so it is rejected."""


# Workbooks parsed before their rows are checked together: enough rows that pandera's
# cost per check is shared, few enough that a backlog of large workbooks fits in memory.
BATCH_ROWS = 50_000


@dataclass(frozen=True)
class _Workbook:
    """A workbook's typed rows and the findings on them so far (QUARANTINE_SCHEMA)."""
    file_name: str
    tables: list[SheetTable]
    rows: pl.DataFrame
    issues: pl.DataFrame
    rows_read: int


# A workbook on its way: parsed, screened by the row rules, submitted; or its error.
_Stage = _Workbook | RegisterSubmission | Exception


def read_register_file(path: Path, file_name: str, reference: Reference) -> RegisterSubmission:
    """One workbook's submission; raises FileRejected with the reason."""
    [submission] = read_register_files([(path, file_name)], reference)
    if isinstance(submission, Exception):
        raise submission
    return submission


def read_register_files(files: Sequence[tuple[Path, str]], reference: Reference
                        ) -> Iterator[RegisterSubmission | Exception]:
    """Each workbook's submission (path, name in the landing folder), in order, or why it
    is rejected: FileRejected, or the error of a broken or hostile file, which does not
    stop the others. The workbooks are parsed one by one; pandera checks the row rules of
    up to BATCH_ROWS rows of them at once, then the warnings on the rows left (its cost
    is a query per check, whatever the rows: about 40 ms a validation of a dozen rows)."""
    batch: list[_Workbook | Exception] = []
    rows = 0
    for path, file_name in files:
        try:
            workbook = _parse_file(path, file_name, reference)
            rows += workbook.rows_read
            batch.append(workbook)
        except Exception as exc:
            batch.append(exc)
        if rows >= BATCH_ROWS:
            yield from _checked(batch)
            batch, rows = [], 0
    yield from _checked(batch)


def _checked(batch: list[_Workbook | Exception]) -> list[RegisterSubmission | Exception]:
    """The submissions of parsed workbooks (errors stay as they are): the row rules, the
    conflicting duplicates, then the warnings on the rows left."""
    results: list[_Stage] = list(batch)
    _check_each(results, REGISTER_ROW_RULES, Severity.ERROR, _screened)
    _check_each(results, REGISTER_ROW_WARNINGS, Severity.WARNING, _submission)
    return results  # type: ignore[return-value]  # every workbook is now submitted


def _check_each(results: list[_Stage], schema: pa.DataFrameSchema, severity: Severity,
                then: Callable[[_Workbook, pl.DataFrame | Exception], _Stage]) -> None:
    """Each workbook among `results` replaced by `then` of it and its findings of
    `schema`, all its workbooks validated together."""
    at = [n for n, result in enumerate(results) if isinstance(result, _Workbook)]
    found = _schema_findings([results[n] for n in at], schema, severity)
    for n, findings in zip(at, found, strict=True):
        results[n] = then(results[n], findings)


def _parse_file(path: Path, file_name: str, reference: Reference) -> _Workbook:
    try:
        tables = read_tables(path, ALIASES)
    except WorkbookUnreadable as exc:
        raise FileRejected(str(exc)) from exc
    if not tables:
        raise FileRejected(
            "no sheet has a register header (a row with at least 4 known column names "
            "within the first 21 rows)")
    if all(t.frame.height == 0 for t in tables):
        headers = ", ".join(f"sheet {t.sheet!r} row {t.header_row}" for t in tables)
        raise FileRejected(f"a register header ({headers}) but no centre rows below it")
    vintage = period_from_filename(path.name)
    if vintage is None and all("as_of" not in t.columns for t in tables):
        raise FileRejected(
            "no vintage: the file name has no period (2025-06, 202506, 2025Q2, 2025-06-30) "
            "and no sheet has an as_of / 报送日期 column")
    parsed = [_parse_table(t, file_name, vintage, reference) for t in tables]
    typed = pl.concat([p[0] for p in parsed], how="diagonal_relaxed")
    if typed.height and typed["as_of"].is_null().all():
        raise FileRejected("no vintage: every as_of / 报送日期 cell is empty or unreadable, "
                           "and the file name has no period")
    return _Workbook(file_name, tables, typed, pl.concat([p[1] for p in parsed]),
                     typed.height)


def _screened(workbook: _Workbook, errors: pl.DataFrame | Exception) -> _Workbook | Exception:
    """The rows no finding rejects, with the findings so far: the parse's, the rules'
    (`errors`), and the conflicting duplicates among the rows those leave."""
    if isinstance(errors, Exception):
        return errors
    try:
        key = pl.struct("source_sheet", "source_row")
        found = pl.concat([workbook.issues, errors])
        valid = workbook.rows.filter(~key.is_in(_row_keys(found).implode()))
        found = pl.concat([found, _conflicting_duplicates(valid, workbook.file_name)])
        clean = workbook.rows.filter(~key.is_in(_row_keys(found).implode()))
    except Exception as exc:  # a hostile workbook: the others go on
        return exc
    return _Workbook(workbook.file_name, workbook.tables, clean, found, workbook.rows_read)


def _submission(screened: _Workbook, warnings: pl.DataFrame | Exception
                ) -> RegisterSubmission | Exception:
    if isinstance(warnings, Exception):
        return warnings
    try:
        all_issues = pl.concat([screened.issues, warnings])
        warned_rows = _row_keys(all_issues.filter(severity=Severity.WARNING))
        rejected_rows = _row_keys(screened.issues)
        return RegisterSubmission(
            rows_read=screened.rows_read,
            accepted=screened.rows.drop("hub_given_code", "cluster_hub_code",
                                        "cluster_province_codes"),
            issues=all_issues.sort("sheet", "source_row", "column_name"),
            rows_rejected=rejected_rows.len(),
            rows_warned=warned_rows.len(),  # warnings are only looked for on clean rows
            notes=tuple(
                f"sheet {t.sheet!r}: no column for {', '.join(missing)}"
                for t in screened.tables
                if (missing := [c.name for c in REGISTER_COLUMNS
                                if c.required and c.name not in t.columns])),
        )
    except Exception as exc:  # a hostile workbook: the others go on
        return exc


def _conflicting_duplicates(rows: pl.DataFrame, file_name: str) -> pl.DataFrame:
    """Findings for the rows of this workbook that give one centre and as-of different
    values: all copies are rejected, so the previous version stands (identical copies
    collapse to one later). Across workbooks a later row is a correction instead."""
    versions = rows.unique(subset=["centre_id", "as_of", *CONTENT]).group_by(
        "centre_id", "as_of").len()
    conflicting = rows.join(versions.filter(pl.col("len") > 1), on=["centre_id", "as_of"],
                            how="semi", nulls_equal=True, maintain_order="left")
    rule = str(Rule.CONFLICTING_DUPLICATE)
    return conflicting.select(
        sheet="source_sheet", source_row="source_row", centre_id="centre_id",
        column_name=pl.lit("centre_id"), value="centre_id", rule=pl.lit(rule),
        severity=pl.lit(str(Severity.ERROR)),
        message=pl.format(
            "{}, sheet '{}', row {}: centre {} has another, different row with as-of {} in "
            "this workbook; all copies rejected, the previous version stands ({})",
            pl.lit(file_name), "source_sheet", "source_row", "centre_id",
            pl.col("as_of").cast(pl.String), pl.lit(rule)),
    ).cast(QUARANTINE_SCHEMA)


def _row_keys(issues: pl.DataFrame) -> pl.Series:
    return issues.select(
        pl.struct(pl.col("sheet").alias("source_sheet"), "source_row")
    ).unique().to_series()


def _parsers(reference: Reference) -> dict[str, Callable[[str], object]]:
    def lookup(table: dict[str, str], what: str) -> Callable[[str], str]:
        def parse(text: str) -> str:
            code = table.get(norm_key(text))
            if code is None:
                raise ValueRejected(Rule.UNKNOWN_CODE, f"{what} {text!r} is not recognised")
            return code
        return parse

    def centre_id(text: str) -> str:
        folded = unicodedata.normalize("NFKC", text).strip().upper()
        if len(folded) != 13 or not (folded.startswith("DC") and folded[2:8].isdigit()
                                     and folded[8] == "-" and folded[9:].isdigit()):
            raise ValueRejected(Rule.UNPARSEABLE, f"{text!r} is not of the form DC510100-0007")
        return folded

    def province(text: str) -> str:
        code = reference.province_code(text)
        if code is None:
            raise ValueRejected(Rule.UNKNOWN_CODE, f"province {text!r} is not recognised")
        return code

    return {
        "centre_id": centre_id,
        "text": lambda text: clean_text(text),
        "uscc": lambda text: unicodedata.normalize("NFKC", text).strip().upper(),
        "province": province,
        "hub": lookup(reference.hub_by_key, "hub"),
        "cluster": lookup(reference.cluster_by_key, "cluster"),
        "integer": parse_integer,
        "number": parse_number,
        "date": parse_date,
        "centre_type": lookup({norm_key(k): v for k, v in CENTRE_TYPES.items()}, "type"),
        "status": lookup({norm_key(k): v for k, v in STATUSES.items()}, "status"),
    }


def _parse_table(table: SheetTable, file_name: str, vintage, reference: Reference
                 ) -> tuple[pl.DataFrame, pl.DataFrame]:
    parsers = _parsers(reference)
    frame = table.frame
    raw_ids = (frame["centre_id"].to_list() if "centre_id" in frame.columns
               else [None] * frame.height)
    out: dict[str, list] = {}
    findings: list[dict] = []

    def note(i: int, column: RegisterColumn, value: str | None, rule: Rule, severity: Severity,
             reason: str) -> None:
        row = frame["source_row"][i]
        label = table.columns[column.name].label if column.name in table.columns else column.name
        parsed_ids = out.get("centre_id")  # parsed first: normalised wherever it parses
        centre = parsed_ids[i] if parsed_ids and parsed_ids[i] else clean_text(raw_ids[i])
        findings.append({
            "sheet": table.sheet, "source_row": row, "centre_id": centre,
            "column_name": column.name, "value": value, "rule": str(rule),
            "severity": str(severity),
            "message": f"{file_name}, sheet {table.sheet!r}, row {row}, column {label!r}: "
                       f"{reason} ({rule})",
        })

    for column in REGISTER_COLUMNS:
        texts = (frame[column.name].to_list() if column.name in frame.columns
                 else [None] * frame.height)
        scale = table.columns[column.name].scale if column.name in table.columns else 1.0
        parse = parsers[column.kind]
        cache: dict[str, object] = {}
        values: list[object] = []
        # A row without as_of takes the file name's period; with none, it has no vintage.
        required = column.required or (column.name == "as_of" and vintage is None)
        for i, text in enumerate(texts):
            if text is None or not text.strip():
                values.append(None)
                if required:
                    note(i, column, None, Rule.MISSING, Severity.ERROR, "a required value is empty")
                continue
            if text not in cache:
                try:
                    cache[text] = parse(text)
                except ValueRejected as exc:
                    cache[text] = exc
            value = cache[text]
            if isinstance(value, ValueRejected):
                values.append(None)
                note(i, column, text, value.rule, Severity.ERROR, value.message)
            else:
                values.append(value * scale if column.kind == "number" else value)
        out[column.name] = values

    typed = pl.DataFrame(
        {name: out[name] for name in out},
        schema={c.name: _DTYPES.get(c.kind, pl.String) for c in REGISTER_COLUMNS},
    ).with_columns(
        province_code=pl.Series(out["province"], dtype=pl.String),
        hub_given_code=pl.Series(out["hub"], dtype=pl.String),
        cluster_code=pl.Series(out["cluster"], dtype=pl.String),
        # As written (trimmed), for lineage; the codes above are what the rules use.
        province=_written(frame, "province"),
        hub=_written(frame, "hub"),
        cluster=_written(frame, "cluster"),
        source_sheet=pl.lit(table.sheet),
        source_row=frame["source_row"],
    ).with_columns(
        hub_code=pl.col("province_code").replace_strict(
            reference.hub_of_province, default=None, return_dtype=pl.String),
        cluster_hub_code=pl.col("cluster_code").replace_strict(
            {k: v[0] for k, v in reference.cluster_places.items()}, default=None,
            return_dtype=pl.String),
        cluster_province_codes=pl.col("cluster_code").replace_strict(
            {k: sorted(v[1]) for k, v in reference.cluster_places.items()}, default=None,
            return_dtype=pl.List(pl.String)),
        centre_type=pl.col("centre_type").fill_null("general"),
        as_of=pl.col("as_of").fill_null(vintage) if vintage else pl.col("as_of"),
    )
    return typed, pl.DataFrame(findings, schema=QUARANTINE_SCHEMA)


def _written(frame: pl.DataFrame, name: str) -> pl.Series:
    if name not in frame.columns:
        return pl.Series(name, [None] * frame.height, dtype=pl.String)
    return frame[name].map_elements(clean_text, return_dtype=pl.String)


def _schema_findings(workbooks: list[_Workbook], schema: pa.DataFrameSchema,
                     severity: Severity) -> list[pl.DataFrame | Exception]:
    """Each workbook's findings of `schema` on its rows, in order: one validation of all
    the rows. Where that fails otherwise than with findings, each workbook is checked
    alone, and the one at fault gets its error instead of findings."""
    try:
        return list(_findings(workbooks, schema, severity))
    except Exception:
        alone: list[pl.DataFrame | Exception] = []
        for workbook in workbooks:
            try:
                alone += _findings([workbook], schema, severity)
            except Exception as exc:
                alone.append(exc)
        return alone


# The place of a row's workbook among those validated together.
_WORKBOOK = "_workbook"


def _findings(workbooks: list[_Workbook], schema: pa.DataFrameSchema, severity: Severity
              ) -> list[pl.DataFrame]:
    """The findings of `schema` on the workbooks' rows validated together, by workbook;
    raises RuleNotEvaluated where pandera could not evaluate a check."""
    found: list[list[dict[str, object]]] = [[] for _ in workbooks]
    # Diagonally, as a workbook's sheets are concatenated: a column none of a workbook's
    # sheets has is all null, of the type of the other workbooks' column.
    frames = [w.rows.with_columns(pl.lit(n).alias(_WORKBOOK))
              for n, w in enumerate(workbooks) if w.rows.height]
    if not frames:
        return [pl.DataFrame(schema=QUARANTINE_SCHEMA) for _ in workbooks]
    rows = pl.concat(frames, how="diagonal_relaxed")
    try:
        schema.validate(rows, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        unevaluated = cases.filter(pl.col("index").is_null())
        if unevaluated.height:
            raise RuleNotEvaluated("census could not check its rows: " + "; ".join(
                f"{check} on {column}: {failure}" for column, check, failure in
                unevaluated.select("column", "check", "failure_case").unique(
                    maintain_order=True).rows())) from exc
        for case in cases.iter_rows(named=True):
            row = rows.row(case["index"], named=True)
            found[row[_WORKBOOK]].append(
                _finding(workbooks[row[_WORKBOOK]], row, case, severity))
    return [pl.DataFrame(rows, schema=QUARANTINE_SCHEMA) for rows in found]


def _finding(workbook: _Workbook, row: dict[str, object], case: dict[str, object],
             severity: Severity) -> dict[str, object]:
    column, rule = str(case["column"]), Rule(case["check"])
    table = next(t for t in workbook.tables if t.sheet == row["source_sheet"])
    header = table.columns.get(column)
    label = header.label if header else column
    value = _raw_cell(table, int(row["source_row"]), column) if header else None
    reason = _RULE_REASONS[(column, rule)]
    return {
        "sheet": row["source_sheet"], "source_row": row["source_row"],
        "centre_id": row["centre_id"], "column_name": column,
        "value": value, "rule": str(rule),
        "severity": str(severity),
        "message": f"{workbook.file_name}, sheet {row['source_sheet']!r}, "
                   f"row {row['source_row']}, column {label!r}: {value!r} {reason} ({rule})",
    }


def _raw_cell(table: SheetTable, source_row: int, column: str) -> str | None:
    """The cell as the province wrote it, for the quarantine's `value`."""
    match = table.frame.filter(pl.col("source_row") == source_row)
    return match[column][0] if match.height else None
