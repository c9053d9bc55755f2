/*
description: >-
  Centres running outside their licence (contract §3): per month, on the register state
  of the month's last day, one row per centre and finding: operating on an expired
  licence, operating with no licence number, or reporting telemetry while not operating.
grain: [month, centre_id, finding]
columns:
  month: First day of the month, China time
  centre_id: Centre ID
  finding: expired_licence, no_licence or reporting_while_not_operating
  province_code: 2-digit province code
  hub_code: Hub of the province; null outside the hubs
  licence_no: Licence number (null where none was given)
  licence_expires: Licence expiry date
  status: Status on the month's last day
  hours_reported: The centre's distinct telemetry hours in the month
tests:
  - relationships: {column: centre_id, to: core.centre_register, name: centres_in_register}
*/
WITH params AS (
    SELECT CAST($month AS DATE) AS month, last_day(CAST($month AS DATE)) AS month_end
),
covered AS (
    SELECT count(*) > 0 AS has_data
    FROM marts.centre_monthly WHERE month = (SELECT month FROM params)
),
centres AS (
    SELECT s.*, coalesce(t.hours_reported, 0) AS hours_reported, p.month_end
    FROM staging.centre_state AS s
    CROSS JOIN params AS p
    LEFT JOIN staging.centre_telemetry AS t
        ON t.month = s.month AND t.centre_id = s.centre_id
    WHERE s.month = p.month AND (SELECT has_data FROM covered)
),
findings AS (
    SELECT *, 'expired_licence' AS finding
    FROM centres WHERE status = 'operating' AND licence_expires < month_end
    UNION ALL
    SELECT *, 'no_licence'
    FROM centres WHERE status = 'operating' AND coalesce(trim(licence_no), '') = ''
    UNION ALL
    -- 24 hours: a day of telemetry, more than a stray sample from a decommissioned rack
    SELECT *, 'reporting_while_not_operating'
    FROM centres WHERE NOT is_operating AND hours_reported >= 24
)
SELECT
    month, centre_id, finding, province_code, hub_code, licence_no, licence_expires,
    status, hours_reported
FROM findings
ORDER BY finding, centre_id
