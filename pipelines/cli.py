"""The `census` command: thin; it calls the same job and functions the UI does."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.bench import FULL_SCALE
from pipelines.preflight import (
    SettingProblem,
    engine,
    existing_warehouse,
    landing_folder,
    mail_settings,
    models_folder,
    scratch_setting,
    writable_folder,
    writable_warehouse,
)
from pipelines.settings import (
    ENGINES,
    PROJECT_ROOT,
    WAREHOUSE_POOL,
    apply_defaults,
    ensure_dagster_home,
    setting,
)

if TYPE_CHECKING:
    from pipelines.interrupts import Interruption
    from pipelines.runs import RunOutcome

DEMO = {"seed": 20251, "centres": 300, "months": 6, "start": "2025-01"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="census", description="National data-centre census: ingest the licensing "
        "register and telemetry into the DuckDB warehouse (see README.md).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="generate demo inputs into an empty landing folder, then run everything",
        description="Generate the demo inputs into the landing folder if it is empty "
                    "(CENSUS_LANDING_DIR), then materialise every asset.")
    _generator_options(demo, out_required=False)
    demo.add_argument("--verbose", action="store_true", help="show Dagster's event log")

    run = commands.add_parser(
        "run", help="materialise every asset on the configured landing folder",
        description="Materialise every asset on CENSUS_LANDING_DIR into CENSUS_WAREHOUSE, the "
                    "SQL models by CENSUS_ENGINE (duckdb, or spark on CENSUS_SPARK_MASTER with "
                    "its lake in CENSUS_LAKE_DIR; README: Past one machine). Exit 0 when the "
                    "run succeeded (quarantined rows do not fail it).")
    run.add_argument("--verbose", action="store_true", help="show Dagster's event log")

    generate = commands.add_parser(
        "generate", help="write deterministic synthetic inputs and their ground truth",
        description="Write register workbooks (xlsx, xls, ods) as provinces send them and "
                    "monthly telemetry exports (CSV, gzip, Parquet, JSON lines) as centres "
                    "send them, with planted faults, and the ground truth beside them "
                    "(OUT/_truth/).")
    _generator_options(generate, out_required=True)

    export = commands.add_parser(
        "export", help="write (and mail) the ministry summary export of a month",
        description="Write CENSUS_EXPORT_DIR/<YYYY-MM>/ from the published warehouse: the "
                    "workbook, the CSVs, the charts and manifest.json; mail the workbook "
                    "where CENSUS_SMTP_HOST is set (README: Exports).")
    export.add_argument("--month", required=True, type=_month, help="YYYY-MM")
    export.add_argument("--resend", action="store_true",
                        help="mail the workbook even if it was already delivered")
    export.add_argument("--verbose", action="store_true", help="show Dagster's event log")

    check = commands.add_parser(
        "check", help="check the integrity of the published warehouse",
        description="Open CENSUS_WAREHOUSE read-only and check it: every table readable, keys "
                    "unique, every row's file loaded, coverage and SQL models equal to a fresh "
                    "computation from their inputs. Exit 1 naming each problem.")
    check.add_argument("--warehouse", type=Path, help="another warehouse file to check")

    bench = commands.add_parser(
        "bench", help="measure the pipeline at national scale against raw DuckDB",
        description="Generate (or reuse from --cache) a register of N centres and a month of "
                    "hourly telemetry per file, then time (a) DuckDB read_csv of the exports, "
                    "(b) census's ingestion of them, (c) the marts, (d) one more month, (e) the "
                    "register workbook (README: Performance).")
    bench.add_argument("--centres", type=_at_least(_LEAST_CENTRES), default=FULL_SCALE["centres"],
                       help=f"centres in the register, {_LEAST_CENTRES} or more "
                            "(default: %(default)s)")
    bench.add_argument("--months", type=int, default=FULL_SCALE["months"],
                       help="months of hourly telemetry (default: %(default)s)")
    bench.add_argument("--format", choices=["csv.gz", "parquet"], default="csv.gz",
                       dest="export_format",
                       help="which variant of the exports to ingest (default: %(default)s)")
    bench.add_argument("--cache", type=Path, default=PROJECT_ROOT / "data" / "bench",
                       help="where inputs are generated once and reused "
                            "(default: %(default)s)")
    bench.add_argument("--engine", choices=ENGINES,
                       help="what builds the SQL models in (c) and (d) (default: "
                            "CENSUS_ENGINE, else duckdb; spark on CENSUS_SPARK_MASTER, its "
                            "lake in the work folder)")
    bench.add_argument("--json", type=Path, help="also write the figures to this file")

    ui = commands.add_parser(
        "ui", help="start the Dagster webserver and daemon on 127.0.0.1:3000",
        description="Start `dg dev` (webserver and daemon) with the census definitions. Ctrl-C "
                    "or SIGTERM stops them; the runs in progress finish first.")
    ui.add_argument("--host", default="127.0.0.1",
                    help="address the webserver listens on (default: %(default)s)")
    ui.add_argument("--port", default="3000", help="its port (default: %(default)s)")

    args = parser.parse_args(argv)
    # The resources' settings are EnvVars: here and in the processes this one starts.
    apply_defaults()
    handlers = {"generate": _generate, "export": _export, "check": _check, "bench": _bench,
                "ui": _ui}
    runs = {"demo": _demo, "run": _run}  # the commands that run census's jobs
    try:
        if args.command in runs:
            from pipelines.interrupts import interrupts_for_census_only

            # Before anything starts a thread (numpy's, polars', Dagster's): Ctrl-C, sent
            # to the process, may go to any thread that does not block it; each thread
            # started in the block inherits it, so the signal reaches census's waiter alone.
            with interrupts_for_census_only() as interruption:
                return runs[args.command](args, interruption)
        return handlers[args.command](args)
    except SettingProblem as exc:
        print(f"census {args.command} failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # `census run` says more: see _run
        print(f"census {args.command}: interrupted", file=sys.stderr)
        return 130


def _generator_options(parser: argparse.ArgumentParser, out_required: bool) -> None:
    parser.add_argument("--seed", type=int, default=DEMO["seed"],
                        help="random seed (default: %(default)s)")
    parser.add_argument("--centres", type=_at_least(_LEAST_CENTRES), default=DEMO["centres"],
                        help=f"number of centres, {_LEAST_CENTRES} or more (default: "
                             "%(default)s)")
    parser.add_argument("--months", type=_at_least(1), default=DEMO["months"],
                        help="months covered (default: %(default)s)")
    parser.add_argument("--start", type=_month_text, default=DEMO["start"],
                        help="first month, YYYY-MM (default: %(default)s)")
    parser.add_argument("--out", type=Path, required=out_required,
                        default=None if out_required else setting("CENSUS_LANDING_DIR"),
                        help="landing folder to write into, missing or without files"
                        if out_required else "landing folder; the inputs are generated into it "
                        "when it holds no files (default: CENSUS_LANDING_DIR, %(default)s)")
    parser.add_argument("--truth", type=Path, default=None,
                        help="where the ground truth goes (default: OUT/_truth)")


def _generate(args: argparse.Namespace) -> int:
    from pipelines.generate import generate
    from pipelines.generate.staging import FolderNotEmpty
    from pipelines.progress import cleared, progress

    try:
        summary = generate(seed=args.seed, centres=args.centres, months=args.months,
                           start=args.start, out=args.out, truth=args.truth, report=progress)
    except FolderNotEmpty as exc:
        cleared()
        print(f"census {args.command}: {exc}", file=sys.stderr)
        return 2
    cleared()
    print(summary)
    return 0


def _demo(args: argparse.Namespace, interruption: Interruption) -> int:
    from pipelines.generate.staging import holds_files

    _run_settings()  # before the generation's minutes, as the export's folder
    writable_folder("CENSUS_EXPORT_DIR")
    landing: Path = args.out
    if holds_files(landing):
        given = _generator_options_given(args)
        unused = (f"; not used: {', '.join(given)} (they shape the inputs generated into an "
                  "empty folder)") if given else ""
        print(f"landing folder {landing} is not empty: using what is there{unused}")
    elif (status := _generate(args)) != 0:
        return status
    if (status := _run(args, interruption, landing=landing)) != 0:
        return status
    from pipelines.runs import latest_month, run_export

    month = latest_month(setting("CENSUS_WAREHOUSE"))
    outcome = run_export(month, verbose=args.verbose)  # the ministry's view of the demo
    print(outcome.summary if outcome.success else f"census export failed: {outcome.failure}")
    return 0 if outcome.success else 1


def _generator_options_given(args: argparse.Namespace) -> list[str]:
    """The generator's options `args` sets to other than their defaults."""
    given = [f"--{name} {getattr(args, name)}" for name in DEMO
             if getattr(args, name) != DEMO[name]]
    return given + ([f"--truth {args.truth}"] if args.truth is not None else [])


def _run_settings() -> None:
    """The settings a run needs but its landing folder, checked (`pipelines.preflight`)."""
    engine()
    writable_warehouse()
    models_folder()
    scratch_setting()
    mail_settings()


def _run(args: argparse.Namespace, interruption: Interruption,
         landing: Path | None = None) -> int:
    """`census run`, in `main`'s block of Ctrl-C (`interruption`)."""
    if landing is not None:
        os.environ["CENSUS_LANDING_DIR"] = str(landing)
    landing_folder()
    _run_settings()
    ensure_dagster_home()
    from pipelines.progress import cleared, progress, quiet
    from pipelines.runs import run_census

    outcome: RunOutcome | None = None
    try:
        # --verbose shows Dagster's event log, which a status line would garble
        outcome = run_census(verbose=args.verbose, report=quiet if args.verbose else progress)
    except KeyboardInterrupt:  # between Dagster's runs, where nothing catches it
        interruption.happened = True
    cleared()
    if interruption.happened or outcome is None or outcome.interrupted:
        # What was committed stays (telemetry file by file, the register's files together)
        # and publishing is one rename: nothing is half-done, the next run goes on.
        print("census run interrupted: what was loaded is kept; run again to continue",
              file=sys.stderr)
        return 130
    if not outcome.success:
        print(f"census run failed: {outcome.failure} (--verbose shows the event log)",
              file=sys.stderr)
        return 1
    print(outcome.summary)
    return 0


def _export(args: argparse.Namespace) -> int:
    from pipelines.defs.partitions import months_built

    first, last = months_built()
    if not first <= args.month <= last:
        raise SettingProblem(f"{args.month:%Y-%m} is outside the months census builds "
                             f"({first:%Y-%m} to {last:%Y-%m}): nothing exported")
    existing_warehouse(setting("CENSUS_WAREHOUSE"))
    writable_folder("CENSUS_EXPORT_DIR")
    mail_settings()
    ensure_dagster_home()
    from pipelines.runs import run_export

    outcome = run_export(args.month, resend=args.resend, verbose=args.verbose)
    if not outcome.success:
        print(f"census export failed: {outcome.failure}", file=sys.stderr)
        return 1
    print(outcome.summary)
    return 0


def _check(args: argparse.Namespace) -> int:
    import duckdb

    from pipelines.defs.models.sql_files import sql_models
    from pipelines.warehouse.integrity import integrity_problems
    from pipelines.warehouse.migrations import warehouse_schema_problem

    path = existing_warehouse(args.warehouse or setting("CENSUS_WAREHOUSE"), "--warehouse")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        raise SettingProblem(f"{path} is not a DuckDB warehouse census can open ({reason}): "
                             "name the warehouse file with --warehouse or CENSUS_WAREHOUSE"
                             ) from None
    try:
        schema = warehouse_schema_problem(con)
        # A schema not the code's is the one problem named: the checks assume the code's.
        problems = [schema] if schema else integrity_problems(con, sql_models())
    finally:
        con.close()
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"census check {path}: {len(problems) or 'no'} problem"
          f"{'' if len(problems) == 1 else 's'}")
    return 1 if problems else 0


def _bench(args: argparse.Namespace) -> int:
    import json
    import platform

    from pipelines.bench.inputs import prepare
    from pipelines.bench.measure import report, run_bench
    from pipelines.progress import progress
    from pipelines.reference import Reference

    if args.months < 2:
        raise SystemExit("census bench: --months must be at least 2 (the last is (d))")
    ensure_dagster_home()
    progress(f"inputs: {args.centres:,} centres × {args.months} months in {args.cache} …")
    inputs = prepare(args.cache, Reference.load(setting("CENSUS_REFERENCE_DIR")),
                     args.centres, args.months, report=progress)
    progress(f"inputs: {sum(inputs.rows_per_month):,} telemetry rows", done=True)
    if args.engine:
        os.environ["CENSUS_ENGINE"] = args.engine
    os.environ["CENSUS_LAKE_DIR"] = str(args.cache / "work" / "lake")
    engine()
    result = run_bench(inputs, args.cache / "work", args.export_format, args.centres,
                       args.months)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB RAM"
    print(report(result, machine))
    if args.json:
        args.json.write_text(json.dumps({**result.as_dict(), "machine": machine}, indent=2))
    return 0


def _month(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a month (YYYY-MM): {text!r}") from None


def _month_text(text: str) -> str:
    """A month as the generator takes it, YYYY-MM, checked as `_month` checks it."""
    return f"{_month(text):%Y-%m}"


def _at_least(least: int) -> Callable[[str], int]:
    """An option's type: a whole number of at least `least`."""
    def whole_number(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = least - 1
        if number < least:
            raise argparse.ArgumentTypeError(
                f"not a whole number of at least {least}: {text!r}")
        return number
    return whole_number


# The generator plants each fault of the contract in centres of its own.
_LEAST_CENTRES = 10


def _ui(args: argparse.Namespace) -> int:
    ensure_dagster_home()
    from dagster import DagsterInstance

    # The pool's limit set before the daemon starts, so the very first runs queue too.
    with DagsterInstance.get() as instance:
        instance.event_log_storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
    dg = Path(sys.executable).with_name("dg")
    command = [str(dg), "dev", "-m", "pipelines.definitions", "-h", args.host,
               "-p", str(args.port)]
    # Ctrl-C signals the terminal's whole foreground process group, and service managers
    # signal a whole group too: had `dg dev` and its code server's run workers stayed in
    # this group, the signal would reach the runs in progress and fail them. So `dg dev`
    # gets a session of its own, and this process passes a stop on to it alone: it stops
    # the webserver and the daemon, and its code server finishes the runs in progress
    # before it exits (`code_servers: wait_for_local_processes_on_shutdown` in
    # dagster.yaml). Handlers set before the start, so that no stop is lost; the child
    # starts with the default actions (a shell starting this one in the background may
    # have left SIGINT ignored, which `dg dev` would keep).
    stops: list[int] = []
    dev: subprocess.Popen | None = None

    def stop(number: int, _frame: object) -> None:
        stops.append(number)
        if dev is not None:
            dev.send_signal(signal.SIGINT)  # what `dg dev` shuts down on

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, stop)
    dev = subprocess.Popen(command, start_new_session=True)
    if stops:
        dev.send_signal(signal.SIGINT)
    return dev.wait()


if __name__ == "__main__":
    sys.exit(main())
