/*
description: >-
  Register state of every centre on the last day of each month (contract §3): the
  version valid that day.
grain: [month, centre_id]
columns:
  month: First day of the month, China time
  centre_id: Centre ID
  province_code: 2-digit province code
  hub_code: Hub of the province; null outside the hubs
  status: Licence status on the month's last day
  commissioned: Commissioning date
  design_racks: Design capacity in 2.5 kW standard racks
  design_it_kw: Design IT load in kW
  licence_no: Licence number (null where the province sent none)
  licence_expires: Licence expiry date
  is_operating: Status operating and commissioned (or no date) by the month's last day
*/
WITH params AS (
    SELECT CAST($month AS DATE) AS month, last_day(CAST($month AS DATE)) AS month_end
)
SELECT
    p.month,
    r.centre_id,
    r.province_code,
    r.hub_code,
    r.status,
    r.commissioned,
    r.design_racks,
    r.design_it_kw,
    r.licence_no,
    r.licence_expires,
    r.status = 'operating' AND coalesce(r.commissioned <= p.month_end, TRUE) AS is_operating
FROM core.centre_register AS r
CROSS JOIN params AS p
WHERE r.valid_from <= p.month_end
  AND (r.valid_to IS NULL OR r.valid_to > p.month_end)
