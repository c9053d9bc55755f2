/*
description: >-
  Telemetry coverage per month (China time) and centre: hours reported of the hours in
  the month.
grain: [month, centre_id]
columns:
  month: First day of the month, China time
  centre_id: Centre ID
  hours_in_month: 24 x days of the month
  hours_reported: Distinct hours with telemetry
  coverage: hours_reported / hours_in_month
  samples: Samples behind those hours
tests:
  - within: {column: coverage, min: 0, max: 1}
  - name: centres_reporting
    description: Every centre with telemetry in the month covers at least half of its hours
    severity: warn
    violations: SELECT count(*) FROM this WHERE coverage < 0.5
  - name: no_rejected_samples
    description: No telemetry sample of the month was rejected (rejections still waiting
      for a register entry count too)
    severity: warn
    violations: >-
      SELECT count(*) FROM audit.quarantine
      WHERE starts_with(file_name, 'telemetry/') AND severity = 'error'
        AND resolved_at IS NULL AND observed_at IS NOT NULL
        AND china_month(observed_at) IN (SELECT DISTINCT month FROM this)
*/
SELECT
    CAST($month AS DATE) AS month,
    centre_id,
    24 * day(last_day(CAST($month AS DATE))) AS hours_in_month,
    count(*) AS hours_reported,
    count(*) / (24 * day(last_day(CAST($month AS DATE)))) AS coverage,
    CAST(sum(samples) AS BIGINT) AS samples
FROM core.telemetry_hourly
-- Bounds on hour_start itself (the month's start and end in China time, as UTC instants)
-- let DuckDB skip the other months' row groups.
WHERE hour_start >= china_month_start($month)
  AND hour_start < china_month_end($month)
GROUP BY centre_id
