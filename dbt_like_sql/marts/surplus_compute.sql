/*
description: >-
  Surplus compute per hub and month (contract §3): what the hub's reporting centres
  with compute telemetry could sell, and the estimated round trip to each eastern hub.
grain: [month, hub_code]
columns:
  month: First day of the month, China time
  hub_code: Hub
  side: east (demand) or west (supply)
  centres_with_compute: Reporting centres of the hub with hours carrying both compute columns
  sellable_pflops: Sum over those centres of max(0, 0.9 x mean capacity - p95 hourly compute used)
  rtt_ms_to_JJJ: 2 x 1.5 x haversine km to Beijing-Tianjin-Hebei x 0.005 ms
  rtt_ms_to_YRD: The same to the Yangtze River Delta
  rtt_ms_to_GBA: The same to the Greater Bay Area
  rtt_ms_to_CY: The same to Chengdu-Chongqing
  reachable_east_hubs: Eastern hubs within 20 ms round trip, sorted (a hub always reaches itself)
*/
WITH params AS (
    SELECT CAST($month AS DATE) AS month
),
covered AS (
    SELECT count(*) > 0 AS has_data
    FROM marts.centre_monthly WHERE month = (SELECT month FROM params)
),
sellers AS (
    SELECT c.hub_code,
           count(*) AS centres_with_compute,
           -- an exact sum: the same bits whatever the order of addition
           exact_sum(greatest(0, 0.9 * t.compute_capacity_avg - t.compute_used_p95))
               AS sellable_pflops
    FROM marts.centre_monthly AS c
    JOIN staging.centre_telemetry AS t ON t.month = c.month AND t.centre_id = c.centre_id
    WHERE c.month = (SELECT month FROM params)
      AND c.is_reporting AND c.hub_code IS NOT NULL AND t.compute_hours > 0
    GROUP BY c.hub_code
),
rtt AS (
    SELECT h.hub_code, e.hub_code AS east_hub,
           2 * 1.5 * 0.005 * 2 * 6371 * asin(sqrt(
               pow(sin(radians(e.ref_lat - h.ref_lat) / 2), 2)
               + cos(radians(h.ref_lat)) * cos(radians(e.ref_lat))
                 * pow(sin(radians(e.ref_lon - h.ref_lon) / 2), 2))) AS rtt_ms
    FROM core.dim_hub AS h
    CROSS JOIN (SELECT * FROM core.dim_hub WHERE side = 'east') AS e
)
SELECT
    (SELECT month FROM params) AS month,
    h.hub_code,
    h.side,
    coalesce(s.centres_with_compute, 0) AS centres_with_compute,
    coalesce(s.sellable_pflops, 0) AS sellable_pflops,
    max(r.rtt_ms) FILTER (WHERE r.east_hub = 'JJJ') AS rtt_ms_to_JJJ,
    max(r.rtt_ms) FILTER (WHERE r.east_hub = 'YRD') AS rtt_ms_to_YRD,
    max(r.rtt_ms) FILTER (WHERE r.east_hub = 'GBA') AS rtt_ms_to_GBA,
    max(r.rtt_ms) FILTER (WHERE r.east_hub = 'CY') AS rtt_ms_to_CY,
    list_sort(list(r.east_hub) FILTER (WHERE r.rtt_ms <= 20 OR r.east_hub = h.hub_code))
        AS reachable_east_hubs
FROM core.dim_hub AS h
JOIN rtt AS r USING (hub_code)
LEFT JOIN sellers AS s USING (hub_code)
WHERE (SELECT has_data FROM covered)
GROUP BY h.hub_code, h.side, s.centres_with_compute, s.sellable_pflops
ORDER BY h.hub_code
