"""The deterministic input generator (`census generate`) and its ground truth."""

from __future__ import annotations

import copy
import datetime as dt
import random
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import polars as pl

from pipelines.generate.centres import make_centres
from pipelines.generate.plan import plan_workbooks, plant_faults
from pipelines.generate.staging import written_at_once
from pipelines.generate.telemetry import (
    plan_exports,
    plan_restatement,
    write_export,
    write_glut_plan,
    write_telemetry_truth,
)
from pipelines.generate.telemetry import plant_faults as plant_telemetry_faults
from pipelines.generate.workbooks import (
    OPTIONAL,
    WorkbookPlan,
    choose_layout,
    convert_with_libreoffice,
    write_xlsx,
)
from pipelines.ingest.values import month_end
from pipelines.progress import Report, quiet
from pipelines.reference import Reference
from pipelines.settings import setting

TRUTH_DIR = "_truth"


def quarter_ends(start: str, months: int) -> list[dt.date]:
    """Register vintages: the quarter end before the first month (the register precedes
    the telemetry), then those of the quarters that months start..start+months-1 touch."""
    year, month = (int(part) for part in start.split("-"))
    first_quarter_month = (month - 1) // 3 * 3 + 1
    ends: list[dt.date] = [dt.date(year, first_quarter_month, 1) - dt.timedelta(days=1)]
    for offset in range(months):
        y, m = divmod(month - 1 + offset, 12)
        end = month_end(year + y, ((m // 3) + 1) * 3)
        if end not in ends:
            ends.append(end)
    return ends


def generate(seed: int, centres: int, months: int, start: str, out: Path,
             truth: Path | None = None, report: Report = quiet) -> str:
    """Write register workbooks into `out/licensing/`, telemetry exports into
    `out/telemetry/` and the truth into `truth` (default `out/_truth`), each folder at
    once: `out` (and `truth`) must be missing or empty. `report` is told each step."""
    report(f"generating: planning {centres} centres over {months} months …")
    rng = random.Random(seed)
    reference = Reference.load(setting("CENSUS_REFERENCE_DIR"))
    vintages = quarter_ends(start, months)
    population = make_centres(rng, reference, centres, vintages)
    provinces = sorted({next(s for s in c.states if s).province_code for c in population})
    layouts = {p: choose_layout(rng, p, reference) for p in provinces}
    plans = plan_workbooks(rng, reference, population, vintages, layouts)
    plant_faults(rng, plans, reference, population)
    exports = plan_exports(rng, population, vintages, start, months, reference)
    plant_telemetry_faults(rng, exports, population)
    exports.append(plan_restatement(rng, exports))
    with ExitStack() as stack:
        staged = stack.enter_context(written_at_once(out))
        truth_staged = (staged / TRUTH_DIR if truth is None
                        else stack.enter_context(written_at_once(truth)))
        truth_staged.mkdir(exist_ok=True)
        # LibreOffice converts workbooks in processes of its own while the exports are
        # written; they are waited for before the folders are put in place.
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        converting = stack.enter_context(ThreadPoolExecutor(thread_name_prefix="soffice"))
        files, conversions = _write_workbooks(plans, staged, scratch, converting, report)
        files += _write_rejected_files(rng, plans, staged)
        _write_truth(plans, files, truth_staged, reference)
        telemetry_faults: list[dict] = []
        for number, export in enumerate(exports, 1):
            report(f"generating: telemetry export {number}/{len(exports)} …")
            telemetry_faults += write_export(export, staged)
        report("generating: the telemetry ground truth …")
        samples = write_telemetry_truth(exports, telemetry_faults, truth_staged)
        write_glut_plan(truth_staged)
        for conversion in conversions:
            conversion.result()  # its error, if any, raised here
    truth = truth or out / TRUTH_DIR
    planted = [rules for export in exports for _, rules in export.faults]
    to_reject = sum(1 for rules in planted if rules)
    # In the terms of `census run`'s summary, so the counts can be checked against it.
    return "\n".join([
        f"generated into {out} (truth in {truth})",
        f"  licensing: {len(files)} files for {len(population)} centres ({len(vintages)} "
        f"quarters from {vintages[0]}): {len(plans)} register workbooks to load, "
        f"{len(files) - len(plans)} planted to reject (a corrupt upload, a workbook with no "
        "vintage)",
        f"  telemetry: {len(exports)} exports, {samples + len(planted)} rows: {samples} "
        f"samples, {to_reject} planted to reject, {len(planted) - to_reject} identical "
        "duplicate (loaded, counted once)",
    ])


def _write_workbooks(plans: list[WorkbookPlan], out: Path, scratch: Path,
                     converting: ThreadPoolExecutor, report: Report
                     ) -> tuple[list[dict], list[Future[None]]]:
    """The register workbooks: xlsx written here, xls and ods converted from xlsx in
    `scratch` by LibreOffice on `converting` (one batch per format, both at once)."""
    (out / "licensing").mkdir(parents=True, exist_ok=True)
    pending: dict[str, list[Path]] = {"xls": [], "ods": []}
    for number, plan in enumerate(plans, 1):
        report(f"generating: register workbook {number}/{len(plans)} …")
        target = out / plan.file_name
        fmt = plan.layout.fmt
        source = target if fmt == "xlsx" else scratch / f"{target.stem}.xlsx"
        write_xlsx(plan, source)
        if fmt != "xlsx":
            pending[fmt].append(source)
    conversions = []
    for fmt, sources in pending.items():
        if sources:
            report(f"generating: {len(sources)} workbooks to .{fmt} with LibreOffice …")
            conversions.append(converting.submit(convert_with_libreoffice, sources, fmt,
                                                 out / "licensing"))
    return ([{"file_name": p.file_name, "status": "loaded", "reason": None} for p in plans],
            conversions)


def _write_rejected_files(rng: random.Random, plans: list[WorkbookPlan], out: Path
                          ) -> list[dict]:
    """Whole files the pipeline must reject: corrupt bytes, and no vintage anywhere."""
    corrupt = "licensing/corrupt_upload_2025Q1.xlsx"
    (out / corrupt).write_bytes(b"PK\x03\x04" + rng.randbytes(4096))
    dated = [p for p in plans if p.layout.period_style and p.layout.fmt == "xlsx"]
    undated = "licensing/register_upload_final.xlsx"
    source = dated[0]
    resubmission = WorkbookPlan(  # its own rows: writing records row numbers on them
        undated, source.province, source.vintage, source.layout,
        ["resubmitted without a date", *source.titles], copy.deepcopy(source.sheets))
    write_xlsx(resubmission, out / undated)
    return [{"file_name": corrupt, "status": "rejected", "reason": "not a readable"},
            {"file_name": undated, "status": "rejected", "reason": "no vintage"}]


def _write_truth(plans: list[WorkbookPlan], files: list[dict], truth: Path,
                 reference: Reference) -> None:
    versions, faults = [], []
    for plan in plans:
        for sheet in plan.sheets:
            for row in sheet.rows:
                for column, rule, severity in row.findings:
                    centre = row.cells.get("centre_id")
                    faults.append({
                        "file_name": plan.file_name, "sheet": row.sheet,
                        "source_row": row.source_row, "centre_id": centre or None,
                        "column_name": column, "rule": rule, "severity": severity})
                if row.truth is None:
                    continue
                sent = {k: v for k, v in row.truth.__dict__.items() if k != "city"}
                for column in OPTIONAL:  # what a province's layout lacks, it did not send
                    if column not in plan.layout.columns:
                        sent[column] = "general" if column == "centre_type" else None
                if "cluster" not in plan.layout.columns:
                    sent["cluster_code"] = None
                state = row.truth
                versions.append({
                    **sent,
                    "design_it_kw": float(state.design_it_kw),
                    **row.written,
                    "hub_code": reference.hub_of_province.get(state.province_code),
                    "valid_from": plan.vintage,
                    "source_file": plan.file_name, "source_sheet": row.sheet,
                    "source_row": row.source_row,
                })
    register = pl.DataFrame(versions, infer_schema_length=None).sort("centre_id", "valid_from")
    register = register.with_columns(
        valid_to=pl.col("valid_from").shift(-1).over("centre_id"),
    ).with_columns(is_current=pl.col("valid_to").is_null())
    register.write_csv(truth / "register_versions.csv")
    pl.DataFrame(faults, infer_schema_length=None).sort(
        "file_name", "sheet", "source_row", "column_name").write_csv(truth / "register_faults.csv")
    pl.DataFrame(files, schema={"file_name": pl.String, "status": pl.String,
                                "reason": pl.String}
                 ).sort("file_name").write_csv(truth / "register_files.csv")
