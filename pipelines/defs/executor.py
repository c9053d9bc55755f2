"""How a run executes: in one process."""

from dagster import Definitions, in_process_executor

# Every writer waits for the one DuckDB file, so steps gain nothing from processes of their
# own: one process per run saves a Python start-up per step.
defs = Definitions(executor=in_process_executor)
