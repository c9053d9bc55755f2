/*
description: >-
  One row per month (China time), level and region with at least one operating centre
  (contract §3): capacity, utilisation, vacancy, pipeline, 12-month growth and the glut
  signals. Levels: national (CN), nbs_region, hub, province.
grain: [month, level, region_code]
columns:
  month: First day of the month, China time
  level: national, nbs_region, hub or province
  region_code: CN, the NBS region, the hub code or the 2-digit province code
  region_name_en: Region name in English
  region_name_zh: "Region name in Chinese (provinces: full name)"
  centres_operating: Operating centres |O|
  centres_reporting: Reporting centres |R| (coverage >= 0.5)
  reporting_share: "|R| / |O|"
  design_racks: Design racks of the operating centres
  racks_in_use: Sum of racks_in_use_avg over the reporting centres
  rack_utilisation: Racks in use / design racks, both over the reporting centres
  vacancy_rate: 1 - rack_utilisation
  power_utilisation: Sum of it_load_kw_avg / sum of design_it_kw over the reporting centres
  pue: Sum of facility load / sum of IT load over all reported hours of the reporting centres
  compute_utilisation: Sum of compute used / sum of capacity over their hours with both
  idle_share: Idle reporting centres / reporting centres
  pipeline_racks: Design racks of the region's centres under construction in the month
  pipeline_ratio: pipeline_racks / racks_in_use
  racks_growth_12m: design_racks / design_racks 12 months earlier - 1
  demand_growth_12m: racks_in_use / racks_in_use 12 months earlier - 1
  threshold: "Utilisation threshold T: 0.65 for hubs and provinces of a hub, else 0.60"
  glut_flag: At least two glut signals hold
  glut_signals: The signals that hold, in the order low_utilisation, supply_outpacing, idle_centres, heavy_pipeline
  glut_score: Mean of four parts clamped to [0, 1]; a null part counts as 0
tests:
  - within: {column: rack_utilisation, min: 0, max: 1.1}
  - within: {column: power_utilisation, min: 0, max: 1.1}
  - name: every_level
    description: Every month has the national, NBS-region, hub and province levels
    violations: |
      SELECT count(*) FROM (
          SELECT month FROM this GROUP BY month HAVING count(DISTINCT level) < 4)
  - name: provinces_add_up_to_national
    description: >-
      Province sums equal the national centres_operating, centres_reporting, design_racks
      and racks_in_use
    violations: |
      SELECT count(*) FROM (
          SELECT sum(centres_operating) FILTER (WHERE level = 'province') AS p_operating,
                 max(centres_operating) FILTER (WHERE level = 'national') AS n_operating,
                 sum(centres_reporting) FILTER (WHERE level = 'province') AS p_reporting,
                 max(centres_reporting) FILTER (WHERE level = 'national') AS n_reporting,
                 sum(design_racks) FILTER (WHERE level = 'province') AS p_racks,
                 max(design_racks) FILTER (WHERE level = 'national') AS n_racks,
                 sum(racks_in_use) FILTER (WHERE level = 'province') AS p_in_use,
                 max(racks_in_use) FILTER (WHERE level = 'national') AS n_in_use
          FROM this GROUP BY month)
      WHERE p_operating != n_operating OR p_reporting != n_reporting OR p_racks != n_racks
         OR abs(p_in_use - n_in_use) > 1e-9 * greatest(abs(n_in_use), 1)
  - name: glut_signals_consistent
    description: glut_signals and glut_flag follow from the figures
    violations: |
      SELECT count(*) FROM this
      WHERE glut_flag != (array_length(glut_signals) >= 2)
         OR list_contains(glut_signals, 'low_utilisation')
            != coalesce(rack_utilisation < threshold, FALSE)
         OR list_contains(glut_signals, 'supply_outpacing')
            != coalesce(racks_growth_12m - demand_growth_12m > 0.10, FALSE)
         OR list_contains(glut_signals, 'idle_centres') != coalesce(idle_share > 0.30, FALSE)
         OR list_contains(glut_signals, 'heavy_pipeline')
            != coalesce(pipeline_ratio > 0.25, FALSE)
*/
WITH params AS (
    SELECT CAST($month AS DATE) AS month,
           CAST(CAST($month AS DATE) - INTERVAL 12 MONTH AS DATE) AS year_ago
),
levels AS (
    SELECT province_code, 'national' AS level, 'CN' AS region_code FROM core.dim_province
    UNION ALL
    SELECT province_code, 'nbs_region', nbs_region FROM core.dim_province
    UNION ALL
    SELECT province_code, 'hub', hub_code FROM core.dim_province WHERE hub_code IS NOT NULL
    UNION ALL
    SELECT province_code, 'province', province_code FROM core.dim_province
),
names AS (
    SELECT 'national' AS level, 'CN' AS region_code, 'China' AS name_en, '全国' AS name_zh
    UNION ALL
    SELECT * FROM (VALUES ('nbs_region', 'east', 'East', '东部'),
                          ('nbs_region', 'central', 'Central', '中部'),
                          ('nbs_region', 'west', 'West', '西部'),
                          ('nbs_region', 'northeast', 'Northeast', '东北'))
    UNION ALL
    SELECT 'hub', hub_code, name_en, name_zh FROM core.dim_hub
    UNION ALL
    SELECT 'province', province_code, name_en, name_zh FROM core.dim_province
),
operating AS (
    SELECT l.level, l.region_code, c.*,
           t.facility_load_kw_sum, t.it_load_kw_sum, t.compute_used_sum, t.compute_capacity_sum
    FROM marts.centre_monthly AS c
    JOIN levels AS l USING (province_code)
    LEFT JOIN staging.centre_telemetry AS t
        ON t.month = c.month AND t.centre_id = c.centre_id
    WHERE c.month = (SELECT month FROM params)
),
figures AS (
    -- Sums of doubles exact: the same bits whatever the order of addition.
    SELECT
        level,
        region_code,
        count(*) AS centres_operating,
        count(*) FILTER (WHERE is_reporting) AS centres_reporting,
        sum(design_racks) AS design_racks,
        coalesce(exact_sum(CASE WHEN is_reporting THEN racks_in_use_avg END), 0)
            AS racks_in_use,
        sum(design_racks) FILTER (WHERE is_reporting) AS reporting_design_racks,
        exact_sum(CASE WHEN is_reporting THEN it_load_kw_avg END) AS reporting_it_load_kw,
        exact_sum(CASE WHEN is_reporting THEN design_it_kw END) AS reporting_design_it_kw,
        exact_sum(CASE WHEN is_reporting THEN facility_load_kw_sum END) AS facility_sum,
        exact_sum(CASE WHEN is_reporting THEN it_load_kw_sum END) AS it_sum,
        exact_sum(CASE WHEN is_reporting THEN compute_used_sum END) AS used_sum,
        exact_sum(CASE WHEN is_reporting THEN compute_capacity_sum END) AS capacity_sum,
        count(*) FILTER (WHERE is_reporting AND is_idle) AS idle_centres
    FROM operating
    GROUP BY level, region_code
),
pipeline AS (
    SELECT l.level, l.region_code, sum(s.design_racks) AS pipeline_racks
    FROM staging.centre_state AS s
    JOIN levels AS l USING (province_code)
    WHERE s.month = (SELECT month FROM params) AND s.status = 'construction'
    GROUP BY l.level, l.region_code
),
year_ago AS (
    SELECT l.level, l.region_code,
           sum(c.design_racks) AS design_racks,
           coalesce(exact_sum(CASE WHEN c.is_reporting THEN c.racks_in_use_avg END), 0)
               AS racks_in_use
    FROM marts.centre_monthly AS c
    JOIN levels AS l USING (province_code)
    WHERE c.month = (SELECT year_ago FROM params)
    GROUP BY l.level, l.region_code
),
hub_provinces AS (
    SELECT province_code FROM core.dim_province WHERE hub_code IS NOT NULL
),
ratios AS (
    SELECT
        (SELECT month FROM params) AS month,
        f.level,
        f.region_code,
        n.name_en AS region_name_en,
        n.name_zh AS region_name_zh,
        f.centres_operating,
        f.centres_reporting,
        f.centres_reporting / f.centres_operating AS reporting_share,
        f.design_racks,
        f.racks_in_use,
        f.racks_in_use / nullif(f.reporting_design_racks, 0) AS rack_utilisation,
        f.reporting_it_load_kw / nullif(f.reporting_design_it_kw, 0) AS power_utilisation,
        f.facility_sum / nullif(f.it_sum, 0) AS pue,
        f.used_sum / nullif(f.capacity_sum, 0) AS compute_utilisation,
        f.idle_centres / nullif(f.centres_reporting, 0) AS idle_share,
        coalesce(p.pipeline_racks, 0) AS pipeline_racks,
        coalesce(p.pipeline_racks, 0) / nullif(f.racks_in_use, 0) AS pipeline_ratio,
        f.design_racks / nullif(y.design_racks, 0) - 1 AS racks_growth_12m,
        f.racks_in_use / nullif(y.racks_in_use, 0) - 1 AS demand_growth_12m,
        CASE WHEN f.level = 'hub'
                  OR (f.level = 'province' AND f.region_code IN (SELECT * FROM hub_provinces))
             THEN 0.65 ELSE 0.60 END::DOUBLE AS threshold
    FROM figures AS f
    JOIN names AS n USING (level, region_code)
    LEFT JOIN pipeline AS p USING (level, region_code)
    LEFT JOIN year_ago AS y USING (level, region_code)
),
signals AS (
    SELECT
        *,
        list_filter([
            CASE WHEN rack_utilisation < threshold THEN 'low_utilisation' END,
            CASE WHEN racks_growth_12m - demand_growth_12m > 0.10 THEN 'supply_outpacing' END,
            CASE WHEN idle_share > 0.30 THEN 'idle_centres' END,
            CASE WHEN pipeline_ratio > 0.25 THEN 'heavy_pipeline' END
        ], s -> s IS NOT NULL) AS glut_signals
    FROM ratios
)
SELECT
    month, level, region_code, region_name_en, region_name_zh,
    centres_operating, centres_reporting, reporting_share, design_racks, racks_in_use,
    rack_utilisation,
    1 - rack_utilisation AS vacancy_rate,
    power_utilisation, pue, compute_utilisation, idle_share, pipeline_racks, pipeline_ratio,
    racks_growth_12m, demand_growth_12m, threshold,
    array_length(glut_signals) >= 2 AS glut_flag,
    glut_signals,
    (greatest(least(coalesce((threshold - rack_utilisation) / threshold, 0), 1), 0)
     + greatest(least(coalesce((racks_growth_12m - demand_growth_12m) / 0.5, 0), 1), 0)
     + greatest(least(coalesce(idle_share, 0), 1), 0)
     + greatest(least(coalesce(pipeline_ratio, 0), 1), 0)) / 4 AS glut_score
FROM signals
ORDER BY level, region_code
