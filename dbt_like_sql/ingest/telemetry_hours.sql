-- The hours of an export's samples (contract §1.2): per centre and hour (UTC), each
-- measure's mean over the samples that carry it, and how many samples there are. A mean
-- adds its values in their sorted order, so that it is the same to the last bit on every
-- run and on either engine (a parallel sum adds in whatever order its threads deliver).
-- Reads `hour_samples`: centre_id, ts and the measures of the samples kept.
SELECT
    centre_id,
    date_trunc('hour', ts) AS hour_start,
    list_avg(list_sort(list(racks_in_use))) AS racks_in_use,
    list_avg(list_sort(list(it_load_kw))) AS it_load_kw,
    list_avg(list_sort(list(facility_load_kw))) AS facility_load_kw,
    list_avg(list_sort(list(cpu_util_pct))) AS cpu_util_pct,
    list_avg(list_sort(list(gpu_util_pct))) AS gpu_util_pct,
    list_avg(list_sort(list(compute_capacity_pflops))) AS compute_capacity_pflops,
    list_avg(list_sort(list(compute_used_pflops))) AS compute_used_pflops,
    count(*) AS samples
FROM hour_samples
GROUP BY centre_id, hour_start
