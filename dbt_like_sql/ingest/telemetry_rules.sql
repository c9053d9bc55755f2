-- The row rules of contract §1.2 on typed telemetry samples: whether the centre is
-- registered (`known`) and the findings of the rules a sample breaks. Reads
-- `telemetry_samples` (the output of telemetry_samples.sql, or pending samples in its
-- shape, `unread` saying whether it has findings) and core.centre_register. A sample
-- that already has findings (missing or unreadable values) keeps them and is not
-- checked further.
-- design_racks in a rule is that of the centre's register version valid on the
-- sample's China date (the earliest version where the sample precedes them all).
-- Parameters: $file, $row_word, $label_<measure> (the export's header of the column).
WITH centres AS (
    -- Each registered centre with its fewest racks and, where it has several versions,
    -- those (oldest first; a centre of one version carries none, keeping the join light).
    SELECT centre_id, min(design_racks) AS fewest_racks,
           CASE WHEN count(*) > 1 THEN list({'valid_from': valid_from,
                                             'design_racks': design_racks} ORDER BY valid_from)
           END AS versions
    FROM core.centre_register
    GROUP BY centre_id
),
joined AS (
    SELECT s.*, c.centre_id IS NOT NULL AS known, c.fewest_racks, c.versions
    FROM telemetry_samples AS s
    LEFT JOIN centres AS c ON s.centre_id = c.centre_id
),
checked AS (
    SELECT
        j.*,
        -- Each rule broken; NULL passes (a missing required value is its own finding).
        -- Only a sample with more racks in use than the centre's smallest version allows
        -- needs the version of its date (a time-zone conversion and a list search).
        coalesce(racks_in_use < 0, FALSE) OR CASE
            WHEN racks_in_use > 1.1 * fewest_racks THEN versions IS NULL OR racks_in_use > 1.1
                * coalesce(list_filter(versions, lambda v: v.valid_from
                                       <= CAST(china_time(ts) AS DATE))[-1],
                           versions[1]).design_racks
            ELSE FALSE END AS racks_broken,
        coalesce(it_load_kw < 0, FALSE) AS it_broken,
        coalesce(facility_load_kw < it_load_kw, FALSE) AS facility_broken,
        coalesce(NOT cpu_util_pct BETWEEN 0 AND 100, FALSE) AS cpu_broken,
        coalesce(NOT gpu_util_pct BETWEEN 0 AND 100, FALSE) AS gpu_broken,
        coalesce(compute_capacity_pflops < 0, FALSE) AS capacity_broken,
        coalesce(compute_used_pflops < 0, FALSE) AS used_broken,
        coalesce(compute_used_pflops > compute_capacity_pflops, FALSE) AS used_over_capacity
    FROM joined AS j
),
judged AS (
    SELECT
        *,
        CASE WHEN array_length(findings) = 0 AND (racks_broken OR it_broken OR facility_broken
                  OR cpu_broken OR gpu_broken OR capacity_broken OR used_broken
                  OR used_over_capacity) THEN [
            {'name': 'racks_in_use', 'label': $label_racks_in_use,
             'written': racks_in_use_written, 'rule': 'out_of_range', 'broken': racks_broken,
             'reason': 'racks in use must be 0 or more and at most 1.1 × the centre''s '
                       || 'design racks'},
            {'name': 'it_load_kw', 'label': $label_it_load_kw, 'written': it_load_kw_written,
             'rule': 'out_of_range', 'broken': it_broken, 'reason': 'IT load must be 0 or more'},
            {'name': 'facility_load_kw', 'label': $label_facility_load_kw,
             'written': facility_load_kw_written, 'rule': 'inconsistent',
             'broken': facility_broken, 'reason': 'facility load is below the IT load'},
            {'name': 'cpu_util_pct', 'label': $label_cpu_util_pct,
             'written': cpu_util_pct_written, 'rule': 'out_of_range', 'broken': cpu_broken,
             'reason': 'CPU utilisation must be within 0–100 %'},
            {'name': 'gpu_util_pct', 'label': $label_gpu_util_pct,
             'written': gpu_util_pct_written, 'rule': 'out_of_range', 'broken': gpu_broken,
             'reason': 'GPU utilisation must be within 0–100 %'},
            {'name': 'compute_capacity_pflops', 'label': $label_compute_capacity_pflops,
             'written': compute_capacity_pflops_written, 'rule': 'out_of_range',
             'broken': capacity_broken, 'reason': 'compute capacity must be 0 or more'},
            {'name': 'compute_used_pflops', 'label': $label_compute_used_pflops,
             'written': compute_used_pflops_written, 'rule': 'out_of_range',
             'broken': used_broken, 'reason': 'compute used must be 0 or more'},
            {'name': 'compute_used_pflops', 'label': $label_compute_used_pflops,
             'written': compute_used_pflops_written, 'rule': 'inconsistent',
             'broken': used_over_capacity, 'reason': 'compute used is above the capacity'},
        ] END AS rules
    FROM checked
)
SELECT
    source_row, centre_id, ts, racks_in_use, it_load_kw, facility_load_kw, cpu_util_pct,
    gpu_util_pct, compute_capacity_pflops, compute_used_pflops, known,
    -- Whether the sample has findings, without building them (a first pass over a
    -- whole file asks no more).
    unread OR racks_broken OR it_broken OR facility_broken OR cpu_broken OR gpu_broken
        OR capacity_broken OR used_broken OR used_over_capacity AS flagged,
    CASE WHEN rules IS NULL THEN findings ELSE [
        {'column_name': r.name, 'value': r.written, 'rule': r.rule,
         'message': format('{}, {} {}, column ''{}'': {} ({})', $file, $row_word, source_row,
                           r.label, r.reason, r.rule)}
        FOR r IN rules IF r.broken] END AS findings
FROM judged
