/*
description: >-
  One row per month (China time) and operating centre (contract §3): coverage,
  utilisation, PUE and compute over the hours it reported.
grain: [month, centre_id]
columns:
  month: First day of the month, China time
  centre_id: Centre ID
  province_code: 2-digit province code
  hub_code: Hub of the province; null outside the hubs
  status: Licence status on the month's last day (operating)
  design_racks: Design capacity in 2.5 kW standard racks
  design_it_kw: Design IT load in kW
  hours_in_month: 24 x days of the month
  hours_reported: Distinct hours with telemetry
  coverage: hours_reported / hours_in_month
  is_reporting: coverage >= 0.5
  racks_in_use_avg: Mean of the hourly racks in use over reported hours
  rack_utilisation: racks_in_use_avg / design_racks (null where design_racks is 0)
  it_load_kw_avg: Mean of the hourly IT load over reported hours, kW
  it_load_kw_p95: quantile_cont(it_load_kw, 0.95) over reported hours, kW
  power_utilisation: it_load_kw_avg / design_it_kw (null where design_it_kw is 0)
  pue: Sum of facility load / sum of IT load over reported hours
  compute_utilisation: Sum of compute used / sum of compute capacity over hours with both
  is_idle: rack_utilisation < 0.30
tests:
  - within: {column: rack_utilisation, min: 0, max: 1.1}
  - within: {column: power_utilisation, min: 0, max: 1.1}
*/
WITH params AS (
    SELECT CAST($month AS DATE) AS month
),
covered AS (
    -- The months covered run from the first to the last month with any telemetry.
    SELECT
        -- converting the extremes, not every hour: the conversion keeps the order
        china_month(min(hour_start)) AS first_month,
        china_month(max(hour_start)) AS last_month
    FROM core.telemetry_hourly
),
figures AS (
    SELECT
        s.month,
        s.centre_id,
        s.province_code,
        s.hub_code,
        s.status,
        s.design_racks,
        s.design_it_kw,
        24 * day(last_day(s.month)) AS hours_in_month,
        coalesce(t.hours_reported, 0) AS hours_reported,
        t.racks_in_use_avg,
        t.it_load_kw_avg,
        t.it_load_kw_p95,
        t.facility_load_kw_sum / nullif(t.it_load_kw_sum, 0) AS pue,
        t.compute_used_sum / nullif(t.compute_capacity_sum, 0) AS compute_utilisation
    FROM staging.centre_state AS s
    CROSS JOIN params AS p
    CROSS JOIN covered AS c
    LEFT JOIN staging.centre_telemetry AS t
        ON t.month = s.month AND t.centre_id = s.centre_id
    WHERE s.month = p.month
      AND s.is_operating
      AND p.month BETWEEN c.first_month AND c.last_month
)
SELECT
    month,
    centre_id,
    province_code,
    hub_code,
    status,
    design_racks,
    design_it_kw,
    hours_in_month,
    hours_reported,
    hours_reported / hours_in_month AS coverage,
    hours_reported / hours_in_month >= 0.5 AS is_reporting,
    racks_in_use_avg,
    racks_in_use_avg / nullif(design_racks, 0) AS rack_utilisation,
    it_load_kw_avg,
    it_load_kw_p95,
    it_load_kw_avg / nullif(design_it_kw, 0) AS power_utilisation,
    pue,
    compute_utilisation,
    coalesce(racks_in_use_avg / nullif(design_racks, 0) < 0.30, FALSE) AS is_idle
FROM figures
ORDER BY centre_id
