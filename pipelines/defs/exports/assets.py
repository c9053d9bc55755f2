"""The ministry summary export (contract §2.2): one month's folder, mailed where SMTP is
configured."""

import datetime as dt

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pipelines.defs.owners import ENGINEERS
from pipelines.defs.partitions import MONTHS
from pipelines.defs.publish.assets import PUBLISHED_KEY
from pipelines.defs.resources import ExportFolder, Warehouse
from pipelines.export import delivery, headline
from pipelines.export.bundle import ExportBundle, export_month
from pipelines.export.delivery import Mailer
from pipelines.export.sheets import NoDataForMonth
from pipelines.settings import WAREHOUSE_POOL
from pipelines.warehouse.migrations import warehouse_schema_problem

EXPORT_KEY = AssetKey("summary_export")


class ExportConfig(Config):
    resend: bool = False  # mail again even if this workbook was already delivered


@asset(
    key=EXPORT_KEY,
    group_name="exports",
    kinds={"excel", "csv", "email"},
    owners=[ENGINEERS],
    deps=[PUBLISHED_KEY],
    partitions_def=MONTHS,
    pool=WAREHOUSE_POOL,  # records deliveries in the warehouse
    description="Ministry summary export of a month (CENSUS_EXPORT_DIR/<YYYY-MM>/): the "
                "bilingual workbook, one CSV per sheet (UTF-8 with BOM), a PNG chart and "
                "manifest.json; mailed to CENSUS_EXPORT_RECIPIENTS where CENSUS_SMTP_HOST "
                "is set, recorded in audit.deliveries.",
)
def summary_export(context: AssetExecutionContext, config: ExportConfig, warehouse: Warehouse,
                   exports: ExportFolder, mailer: Mailer) -> MaterializeResult:
    month = dt.date.fromisoformat(context.partition_key)
    with warehouse.reader() as con:
        # The export's SQL is this census's: it needs the tables and macros of its schema,
        # which the published file has once a run of this census has published it.
        behind = warehouse_schema_problem(con)
        if behind is not None:
            raise Failure(description=f"{warehouse.published_path}: {behind}")
        try:
            bundle = export_month(con, month, exports.path, dt.datetime.now(dt.UTC))
        except NoDataForMonth as exc:
            raise Failure(description=str(exc)) from None
    warning = headline.incomplete(bundle)
    if warning is not None:
        context.log.warning(warning)
    mailed = _deliver(context, bundle, warehouse, mailer, config.resend)
    return MaterializeResult(metadata={
        **({"warning": warning} if warning else {}),
        "folder": MetadataValue.path(str(bundle.folder)),
        "files": MetadataValue.json(bundle.checksums),
        **{f"rows/{t.key}": len(t.rows) for t in bundle.tables},
        "rack_utilisation": bundle.summary["rack_utilisation"],
        "delivery": mailed,
    })


def _deliver(context: AssetExecutionContext, bundle: ExportBundle, warehouse: Warehouse,
             mailer: Mailer, resend: bool) -> str:
    """Mail the workbook unless SMTP is off or it already went to these recipients.
    Every attempt is recorded and published; a failed delivery fails the run."""
    recipients = mailer.recipients("export")
    if not recipients:
        return "not configured (CENSUS_SMTP_HOST, CENSUS_EXPORT_RECIPIENTS)"
    sha = bundle.checksums[bundle.workbook.name]
    with warehouse.reader() as con:
        earlier = None if resend else delivery.already_sent(con, bundle.month, sha, recipients)
    if earlier:
        context.log.info(f"{bundle.workbook.name} already sent as {earlier}; --resend to "
                         "mail it again")
        return f"already sent ({earlier})"
    message = delivery.build_message(mailer, recipients, headline.subject(bundle),
                                     headline.body(bundle), bundle.workbook)
    try:
        sent = delivery.send(mailer, message, recipients)
        outcome = {"message_id": sent.message_id, "status": "sent",
                   "attempts": sent.attempts, "error": None}
    except delivery.DeliveryFailed as exc:
        outcome = {"message_id": str(message["Message-ID"]), "status": "failed",
                   "attempts": exc.attempts, "error": str(exc)}
    with warehouse.writer() as con:
        delivery.record(con, month=bundle.month, recipients=recipients, workbook_sha256=sha,
                        run_id=context.run.run_id, at=dt.datetime.now(dt.UTC), **outcome)
    warehouse.publish()
    if outcome["status"] == "failed":
        raise Failure(description=outcome["error"])
    return f"sent to {', '.join(recipients)} ({outcome['message_id']}, " \
           f"{outcome['attempts']} attempt(s))"
