-- Typed telemetry samples of one export (contract §1.2), from its cells as text, with
-- the findings of cells that are missing or unreadable. Reads `export_text`:
-- source_row and one text column per canonical column as written (NULL where the
-- export has no such column); ts_instant: the sample time where the export types it
-- with its time zone (Parquet), there being nothing to read then (ts is NULL); and
-- <measure>_typed: the number where the export types it (a DOUBLE or integer column),
-- NULL where it gives text. A typed number is read as it is; its text then only says
-- whether the cell holds a value (''), so a row this finds anything in is read again
-- from its cells as written (findings quote them). `unread`: whether the row has
-- findings, without building them where only that is asked.
-- The forms are the macros of telemetry_forms.sql.
-- Parameters: $file, $row_word (line or record), $decimal_comma, $required (the
-- canonical columns a row must carry), $label_<column> (the export's header of the
-- column, for messages), $factor_<measure> (the unit factor of the column's alias).
WITH as_written AS (
    SELECT
        *,
        telemetry_trim(centre_id) AS centre_trimmed,
        coalesce(ts_instant, telemetry_ts(ts)) AS ts_as_written,
        telemetry_measure(racks_in_use_typed, racks_in_use, $decimal_comma) AS racks_as_written,
        telemetry_measure(it_load_kw_typed, it_load_kw, $decimal_comma) AS it_as_written,
        telemetry_measure(facility_load_kw_typed, facility_load_kw, $decimal_comma)
            AS facility_as_written,
        telemetry_measure(cpu_util_pct_typed, cpu_util_pct, $decimal_comma) AS cpu_as_written,
        telemetry_measure(gpu_util_pct_typed, gpu_util_pct, $decimal_comma) AS gpu_as_written,
        telemetry_measure(compute_capacity_pflops_typed, compute_capacity_pflops,
                          $decimal_comma) AS capacity_as_written,
        telemetry_measure(compute_used_pflops_typed, compute_used_pflops, $decimal_comma)
            AS used_as_written
    FROM export_text
),
typed AS (
    -- Cells that fail as written are read again trimmed. The centre ID is trimmed once,
    -- above: a macro's argument is written into its body at every use, and planning
    -- grows with the expression.
    SELECT
        *,
        telemetry_centre(centre_trimmed) AS centre_key,
        CASE WHEN ts_as_written IS NULL AND ts IS NOT NULL THEN telemetry_ts(telemetry_trim(ts))
             ELSE ts_as_written END AS instant,
        telemetry_number_retried(racks_as_written, racks_in_use, $decimal_comma)
            AS racks_number,
        telemetry_number_retried(it_as_written, it_load_kw, $decimal_comma)
            AS it_number,
        telemetry_number_retried(facility_as_written, facility_load_kw, $decimal_comma)
            AS facility_number,
        telemetry_number_retried(cpu_as_written, cpu_util_pct, $decimal_comma)
            AS cpu_number,
        telemetry_number_retried(gpu_as_written, gpu_util_pct, $decimal_comma)
            AS gpu_number,
        telemetry_number_retried(capacity_as_written, compute_capacity_pflops, $decimal_comma)
            AS capacity_number,
        telemetry_number_retried(used_as_written, compute_used_pflops, $decimal_comma)
            AS used_number
    FROM as_written
),
cells AS (
    SELECT
        *,
        -- Only a row with a NULL where there is text, or a NULL in a required column, can
        -- have a finding: these cheap tests pick the rows whose cells are examined.
        CASE WHEN centre_key IS NULL OR instant IS NULL
                  OR (racks_number IS NULL AND (racks_in_use IS NOT NULL
                                                OR list_contains($required, 'racks_in_use')))
                  OR (it_number IS NULL AND (it_load_kw IS NOT NULL
                                             OR list_contains($required, 'it_load_kw')))
                  OR (facility_number IS NULL AND (facility_load_kw IS NOT NULL
                                                   OR list_contains($required, 'facility_load_kw')))
                  OR (cpu_number IS NULL AND (cpu_util_pct IS NOT NULL
                                              OR list_contains($required, 'cpu_util_pct')))
                  OR (gpu_number IS NULL AND (gpu_util_pct IS NOT NULL
                                              OR list_contains($required, 'gpu_util_pct')))
                  OR (capacity_number IS NULL AND (compute_capacity_pflops IS NOT NULL
                      OR list_contains($required, 'compute_capacity_pflops')))
                  OR (used_number IS NULL AND (compute_used_pflops IS NOT NULL
                      OR list_contains($required, 'compute_used_pflops')))
        THEN [
            {'name': 'centre_id', 'label': $label_centre_id, 'written': centre_id,
             'blank': coalesce(centre_trimmed, '') = '',
             'read': centre_key IS NOT NULL,
             'unreadable': 'not valid UTF-8 text'},
            {'name': 'ts', 'label': $label_ts, 'written': ts,
             -- a time the export types with its zone has no text, and is not blank
             'blank': ts_instant IS NULL AND coalesce(telemetry_trim(ts), '') = '',
             'read': instant IS NOT NULL,
             'unreadable': 'not a timestamp of an accepted form'},
            {'name': 'racks_in_use', 'label': $label_racks_in_use, 'written': racks_in_use,
             'blank': coalesce(telemetry_trim(racks_in_use), '') = '',
             'read': racks_number IS NOT NULL,
             'unreadable': 'not a number of an accepted form'},
            {'name': 'it_load_kw', 'label': $label_it_load_kw, 'written': it_load_kw,
             'blank': coalesce(telemetry_trim(it_load_kw), '') = '',
             'read': it_number IS NOT NULL,
             'unreadable': 'not a number of an accepted form'},
            {'name': 'facility_load_kw', 'label': $label_facility_load_kw,
             'written': facility_load_kw,
             'blank': coalesce(telemetry_trim(facility_load_kw), '') = '',
             'read': facility_number IS NOT NULL,
             'unreadable': 'not a number of an accepted form'},
            {'name': 'cpu_util_pct', 'label': $label_cpu_util_pct, 'written': cpu_util_pct,
             'blank': coalesce(telemetry_trim(cpu_util_pct), '') = '',
             'read': cpu_number IS NOT NULL,
             'unreadable': 'not a number of an accepted form'},
            {'name': 'gpu_util_pct', 'label': $label_gpu_util_pct, 'written': gpu_util_pct,
             'blank': coalesce(telemetry_trim(gpu_util_pct), '') = '',
             'read': gpu_number IS NOT NULL,
             'unreadable': 'not a number of an accepted form'},
            {'name': 'compute_capacity_pflops', 'label': $label_compute_capacity_pflops,
             'written': compute_capacity_pflops,
             'blank': coalesce(telemetry_trim(compute_capacity_pflops), '') = '',
             'read': capacity_number IS NOT NULL,
             'unreadable': 'not a number of an accepted form'},
            {'name': 'compute_used_pflops', 'label': $label_compute_used_pflops,
             'written': compute_used_pflops,
             'blank': coalesce(telemetry_trim(compute_used_pflops), '') = '',
             'read': used_number IS NOT NULL,
             'unreadable': 'not a number of an accepted form'},
        ] END AS examined
    FROM typed
),
cells_judged AS (
    SELECT
        *,
        [{'name': c.name, 'label': c.label, 'written': c.written,
          'rule': CASE WHEN c.blank AND list_contains($required, c.name) THEN 'missing'
                       WHEN NOT c.blank AND NOT c.read THEN 'unparseable' END,
          'reason': CASE WHEN c.blank THEN 'a required value is empty' ELSE c.unreadable END}
         FOR c IN examined] AS verdicts
    FROM cells
)
SELECT
    source_row,
    centre_key AS centre_id,
    instant AS ts,
    racks_number * $factor_racks_in_use AS racks_in_use,
    it_number * $factor_it_load_kw AS it_load_kw,
    facility_number * $factor_facility_load_kw AS facility_load_kw,
    cpu_number * $factor_cpu_util_pct AS cpu_util_pct,
    gpu_number * $factor_gpu_util_pct AS gpu_util_pct,
    capacity_number * $factor_compute_capacity_pflops AS compute_capacity_pflops,
    used_number * $factor_compute_used_pflops AS compute_used_pflops,
    -- The measures as written: the values of the row rules' findings.
    racks_in_use AS racks_in_use_written,
    it_load_kw AS it_load_kw_written,
    facility_load_kw AS facility_load_kw_written,
    cpu_util_pct AS cpu_util_pct_written,
    gpu_util_pct AS gpu_util_pct_written,
    compute_capacity_pflops AS compute_capacity_pflops_written,
    compute_used_pflops AS compute_used_pflops_written,
    coalesce([
        {'column_name': v.name, 'value': v.written, 'rule': v.rule,
         'message': format('{}, {} {}, column ''{}'': {} ({})', $file, $row_word, source_row,
                           v.label, v.reason, v.rule)}
        FOR v IN verdicts IF v.rule IS NOT NULL], []) AS findings,
    -- Whether the row has findings, where only that is asked: its cells are examined
    -- only where one was not read.
    CASE WHEN examined IS NULL THEN FALSE ELSE array_length(findings) > 0 END AS unread
FROM cells_judged
