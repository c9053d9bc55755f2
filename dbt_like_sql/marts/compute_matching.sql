/*
description: >-
  Which surplus can serve which eastern shortfall (contract §3): per month, each eastern
  hub's excess compute matched greedily to the other hubs' sellable surplus within reach
  (reachable_east_hubs of marts.surplus_compute), one row per allocation and one row
  with a null supplier for what stays unmet.
grain: [month, east_hub, supplier_hub]  # supplier_hub is null on a demander's unmet row: one such row per demander
columns:
  month: First day of the month, China time
  east_hub: Eastern hub with excess compute (demanders taken by descending excess, ties by hub_code)
  supplier_hub: Hub whose sellable surplus serves it; null on the row of what stays unmet
  rtt_ms: Estimated round trip from supplier_hub to east_hub (marts.surplus_compute); null where unmet
  pflops: PFLOPS allocated, or on the unmet row the excess no supplier within reach could serve
  east_excess_pflops: "The eastern hub's excess: sum over its reporting centres with compute telemetry of max(0, p95 hourly compute used - 0.9 x mean capacity)"
tests:
  # Sums of allocations may differ from the figure they were carved from in the last bits.
  - name: allocations_within_supply
    description: No supplier gives more than its sellable_pflops in marts.surplus_compute
    violations: |
      SELECT count(*) FROM (
          SELECT m.month, m.supplier_hub, sum(m.pflops) AS allocated,
                 any_value(s.sellable_pflops) AS available
          FROM this AS m
          LEFT JOIN marts.surplus_compute AS s
              ON s.month = m.month AND s.hub_code = m.supplier_hub
          WHERE m.supplier_hub IS NOT NULL GROUP BY ALL)
      WHERE NOT coalesce(allocated <= available + 1e-9 * greatest(1, available), FALSE)
  - name: allocations_within_excess
    description: No eastern hub receives more than its excess
    violations: |
      SELECT count(*) FROM (
          SELECT month, east_hub,
                 sum(pflops) FILTER (WHERE supplier_hub IS NOT NULL) AS allocated,
                 max(east_excess_pflops) AS available
          FROM this GROUP BY ALL)
      WHERE NOT coalesce(allocated <= available + 1e-9 * greatest(1, available), FALSE)
*/
WITH RECURSIVE params AS (
    SELECT CAST($month AS DATE) AS month
),
excess AS (
    -- The mirror of sellable_pflops, over the same centres as marts.surplus_compute.
    SELECT c.hub_code,
           exact_sum(greatest(0, t.compute_used_p95 - 0.9 * t.compute_capacity_avg))
               AS excess_pflops
    FROM marts.centre_monthly AS c
    JOIN staging.centre_telemetry AS t ON t.month = c.month AND t.centre_id = c.centre_id
    WHERE c.month = (SELECT month FROM params)
      AND c.is_reporting AND c.hub_code IS NOT NULL AND t.compute_hours > 0
    GROUP BY c.hub_code
),
hubs AS (
    SELECT s.*, coalesce(e.excess_pflops, 0) AS excess_pflops
    FROM marts.surplus_compute AS s
    LEFT JOIN excess AS e USING (hub_code)
    WHERE s.month = (SELECT month FROM params)
),
demanders AS (
    SELECT hub_code AS east_hub, excess_pflops,
           row_number() OVER (ORDER BY excess_pflops DESC, hub_code) AS step
    FROM hubs
    WHERE side = 'east' AND excess_pflops > 0
),
links AS (
    -- Every other hub within reach of the demander, nearest first.
    SELECT d.step, s.hub_code AS supplier_hub,
           CASE d.east_hub WHEN 'JJJ' THEN s.rtt_ms_to_JJJ WHEN 'YRD' THEN s.rtt_ms_to_YRD
                           WHEN 'GBA' THEN s.rtt_ms_to_GBA WHEN 'CY' THEN s.rtt_ms_to_CY
           END AS rtt_ms
    FROM demanders AS d
    JOIN hubs AS s
        ON s.hub_code != d.east_hub AND list_contains(s.reachable_east_hubs, d.east_hub)
),
reach AS (
    -- Each demander's suppliers within reach, nearest first (ties by hub_code); NULL for
    -- a demander none can reach.
    SELECT d.step, list_sort(list({'rtt_ms': l.rtt_ms, 'hub': l.supplier_hub})
                             FILTER (WHERE l.supplier_hub IS NOT NULL)) AS suppliers
    FROM demanders AS d
    LEFT JOIN links AS l ON l.step = d.step
    GROUP BY d.step
),
supply(step, hubs) AS (
    -- Step k: what each hub has left after the first k demanders, and what the k-th
    -- took from it, as one list a step (by hub_code). A demander takes min(what it still
    -- needs, what the supplier has) from each supplier in turn: what it still needs at a
    -- supplier is its excess less all the nearer suppliers had. That running sum is taken
    -- over the step's list, not by a window over the recursion, which Spark refuses.
    SELECT 0, list_sort(list({'hub': hub_code, 'remaining': sellable_pflops,
                              'taken': CAST(0 AS DOUBLE)}))
    FROM hubs
    UNION ALL
    SELECT step, list_transform(hubs, lambda h: {'hub': h.hub,
                                                 'remaining': h.remaining - h.taken,
                                                 'taken': h.taken})
    FROM (
        SELECT s.step + 1 AS step, list_transform(s.hubs, lambda h: {
            'hub': h.hub, 'remaining': h.remaining,
            'taken': CASE WHEN coalesce(list_contains(
                              list_transform(r.suppliers, lambda n: n.hub), h.hub), FALSE)
                          THEN least(h.remaining, greatest(0, d.excess_pflops - coalesce(
                              list_sum(list_transform(
                                  -- the nearer suppliers, and what each had
                                  list_filter(r.suppliers, lambda n: n < list_filter(
                                      r.suppliers, lambda m: m.hub = h.hub)[1]),
                                  lambda n: list_filter(s.hubs, lambda o: o.hub = n.hub)[1]
                                      .remaining)), 0)))
                          ELSE CAST(0 AS DOUBLE) END}) AS hubs
        FROM supply AS s
        JOIN demanders AS d ON d.step = s.step + 1
        JOIN reach AS r ON r.step = d.step
    )
),
held AS (
    -- Each step's hubs, a row each.
    SELECT step, h.hub AS hub_code, h.remaining, h.taken
    FROM (SELECT step, unnest(hubs) AS h FROM supply)
),
matched AS (
    -- Each demander with each supplier within reach (one row with none where none is):
    -- what it took from it, and what the supplier had before it.
    SELECT d.east_hub, d.excess_pflops, l.supplier_hub, l.rtt_ms, s.taken,
           s.remaining + s.taken AS had
    FROM demanders AS d
    LEFT JOIN links AS l ON l.step = d.step
    LEFT JOIN held AS s ON s.step = d.step AND s.hub_code = l.supplier_hub
),
outcomes AS (
    -- Per demander, one row per supplier it took from, and one of what stays unmet: the
    -- excess beyond all its suppliers had. One pass over `matched`, which Spark would
    -- otherwise compute, recursion and all, once for each.
    SELECT east_hub, excess_pflops, GROUPING(supplier_hub) = 1 AS unmet,
           CASE WHEN GROUPING(supplier_hub) = 0 THEN supplier_hub END AS supplier_hub,
           CASE WHEN GROUPING(supplier_hub) = 0 THEN any_value(rtt_ms) END AS rtt_ms,
           CASE WHEN GROUPING(supplier_hub) = 0 THEN sum(taken)
                ELSE excess_pflops - coalesce(exact_sum(had), 0) END AS pflops
    FROM matched
    GROUP BY GROUPING SETS ((east_hub, excess_pflops, supplier_hub), (east_hub, excess_pflops))
)
SELECT
    (SELECT month FROM params) AS month,
    east_hub,
    supplier_hub,
    rtt_ms,
    pflops,
    excess_pflops AS east_excess_pflops
FROM outcomes
WHERE pflops > 0 AND (unmet OR supplier_hub IS NOT NULL)
ORDER BY east_excess_pflops DESC, east_hub, rtt_ms NULLS LAST, supplier_hub
