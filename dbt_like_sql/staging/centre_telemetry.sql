/*
description: >-
  Telemetry of each centre in each month (China time): the hours it reported and
  the sums, means and percentiles the marts need.
grain: [month, centre_id]
columns:
  month: First day of the month, China time
  centre_id: Centre ID
  hours_reported: Distinct hours with telemetry
  racks_in_use_avg: Mean of the hourly racks in use
  it_load_kw_avg: Mean of the hourly IT load, kW
  it_load_kw_p95: 95th percentile (quantile_cont) of the hourly IT load, kW
  racks_in_use_sum: Sum of the hourly racks in use
  it_load_kw_sum: Sum of the hourly IT load, kW
  facility_load_kw_sum: Sum of the hourly facility load, kW
  compute_hours: Hours carrying both compute capacity and compute used
  compute_capacity_sum: Sum of the hourly compute capacity over those hours, PFLOPS
  compute_used_sum: Sum of the hourly compute used over those hours, PFLOPS
  compute_capacity_avg: Mean hourly compute capacity over those hours, PFLOPS
  compute_used_p95: 95th percentile (quantile_cont) of hourly compute used over those hours
*/
WITH params AS (
    SELECT CAST($month AS DATE) AS month
),
hours AS (
    SELECT h.*
    FROM core.telemetry_hourly AS h
    -- Bounds on hour_start itself (the month's start and end in China time, as UTC
    -- instants) let DuckDB skip the other months' row groups.
    WHERE h.hour_start >= china_month_start($month)
      AND h.hour_start < china_month_end($month)
),
with_compute AS (
    SELECT
        centre_id,
        CASE WHEN compute_capacity_pflops IS NOT NULL AND compute_used_pflops IS NOT NULL
             THEN compute_capacity_pflops END AS capacity,
        CASE WHEN compute_capacity_pflops IS NOT NULL AND compute_used_pflops IS NOT NULL
             THEN compute_used_pflops END AS used,
        racks_in_use,
        it_load_kw,
        facility_load_kw
    FROM hours
)
-- Sums are exact (exact_sum): the published figures come out the same to the last bit
-- whatever order DuckDB's threads add the hours in. Means are those sums over the hours
-- counted (null where there are none, as avg).
SELECT
    (SELECT month FROM params) AS month,
    centre_id,
    count(*) AS hours_reported,
    exact_sum(racks_in_use) / count(racks_in_use) AS racks_in_use_avg,
    exact_sum(it_load_kw) / count(it_load_kw) AS it_load_kw_avg,
    quantile_cont(it_load_kw, 0.95) AS it_load_kw_p95,
    exact_sum(racks_in_use) AS racks_in_use_sum,
    exact_sum(it_load_kw) AS it_load_kw_sum,
    exact_sum(facility_load_kw) AS facility_load_kw_sum,
    count(capacity) AS compute_hours,
    exact_sum(capacity) AS compute_capacity_sum,
    exact_sum(used) AS compute_used_sum,
    exact_sum(capacity) / count(capacity) AS compute_capacity_avg,
    quantile_cont(used, 0.95) AS compute_used_p95
FROM with_compute
GROUP BY centre_id
