-- The keys (centre_id, ts) one export sends more than once with different samples
-- (contract §1.2: all of them are rejected; identical copies count once). Two samples
-- differ where a measure's values differ, or where one carries the measure and the other
-- does not. Reads `sent_samples`: centre_id, ts and the measures of the export's samples
-- (all of them, or only those of keys sent more than once).
SELECT centre_id, ts
FROM sent_samples
GROUP BY centre_id, ts
HAVING count(*) > 1 AND (
    min(racks_in_use) IS DISTINCT FROM max(racks_in_use)
    OR count(racks_in_use) NOT IN (0, count(*))
    OR min(it_load_kw) IS DISTINCT FROM max(it_load_kw)
    OR count(it_load_kw) NOT IN (0, count(*))
    OR min(facility_load_kw) IS DISTINCT FROM max(facility_load_kw)
    OR count(facility_load_kw) NOT IN (0, count(*))
    OR min(cpu_util_pct) IS DISTINCT FROM max(cpu_util_pct)
    OR count(cpu_util_pct) NOT IN (0, count(*))
    OR min(gpu_util_pct) IS DISTINCT FROM max(gpu_util_pct)
    OR count(gpu_util_pct) NOT IN (0, count(*))
    OR min(compute_capacity_pflops) IS DISTINCT FROM max(compute_capacity_pflops)
    OR count(compute_capacity_pflops) NOT IN (0, count(*))
    OR min(compute_used_pflops) IS DISTINCT FROM max(compute_used_pflops)
    OR count(compute_used_pflops) NOT IN (0, count(*))
)
