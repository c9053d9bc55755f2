"""Declarative automation: which assets follow their inputs, and owners / freshness for
the UI. Months are chosen by the `rebuild_touched_months` sensor (it requests the first
monthly assets for the months an ingest run touched); everything downstream follows
those months here."""

import datetime as dt

from dagster import AssetSelection, AutomationCondition, FreshnessPolicy

ENGINEERS = "team:data-engineering"
ANALYSTS = "team:analytics"

# The ingest assets are unpartitioned: their updates say nothing about which month
# changed, so the month-partitioned assets ignore them and follow their monthly inputs.
INGEST = AssetSelection.groups("ingest")


def follow_monthly_inputs() -> AutomationCondition:
    """A month is rebuilt when a month of an input it reads was rebuilt since it was last
    handled, once no input is missing or running."""
    return (
        AutomationCondition.any_deps_updated().ignore(INGEST).since_last_handled()
        & ~AutomationCondition.any_deps_missing().ignore(INGEST)
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
    ).with_label("follow_monthly_inputs")


def publish_when_built() -> AutomationCondition:
    """Publish after the marts (or other non-ingest writers) changed, once nothing
    upstream is running or about to be: analysts get each rebuilt state, never one in
    between. "About to be" is also asked as "a mart has an input update it has not yet
    handled": `will_be_requested` is always false across partitions definitions
    (dagster-io/dagster#32935), so the unpartitioned publish could be requested in the
    tick that requests the marts, run before them, and then see its own update and the
    marts' in the same tick, which leaves it unhandled for good."""
    return (
        AutomationCondition.any_deps_updated().ignore(INGEST).since_last_handled()
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.any_deps_match(AutomationCondition.will_be_requested())
        & ~AutomationCondition.any_deps_match(
            AutomationCondition.any_deps_updated().ignore(INGEST).since_last_handled())
        & ~AutomationCondition.in_progress()
    ).with_label("publish_when_built")


# Telemetry arrives in monthly exports; marts more than five weeks old mean a month was
# missed.
MART_FRESHNESS = FreshnessPolicy.time_window(fail_window=dt.timedelta(days=40),
                                             warn_window=dt.timedelta(days=35))
