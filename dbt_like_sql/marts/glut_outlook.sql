/*
description: >-
  When the glut clears if nothing more is licensed (contract §3): per month, level and
  region of marts.region_monthly, the months until rack utilisation reaches its
  threshold at the current 12-month demand growth, without and with the pipeline.
grain: [month, level, region_code]
columns:
  month: First day of the month, China time
  level: national, nbs_region, hub or province
  region_code: CN, the NBS region, the hub code or the 2-digit province code
  region_name_en: Region name in English
  region_name_zh: "Region name in Chinese (provinces: full name)"
  rack_utilisation: u, rack utilisation of the month (marts.region_monthly)
  threshold: T, the region's utilisation threshold
  demand_growth_12m: d, growth of racks in use over 12 months
  design_racks: Design racks of the operating centres
  pipeline_racks: Design racks of the region's centres under construction
  months_to_threshold: 0 when u >= T; else ceil(12 ln(T/u) / ln(1+d)); null when u is null or 0, d is null or <= 0, or the result exceeds 240
  clears_by: First day of the month months_to_threshold months after month
  utilisation_with_pipeline: "u x design_racks / (design_racks + pipeline_racks): the centres under construction added at zero use"
  months_to_absorb_pipeline: months_to_threshold with utilisation_with_pipeline in place of u
tests:
  - within: {column: months_to_threshold, min: 0, max: 240}
  - within: {column: months_to_absorb_pipeline, min: 0, max: 240}
*/
WITH params AS (
    SELECT CAST($month AS DATE) AS month
),
regions AS (
    SELECT
        month, level, region_code, region_name_en, region_name_zh, rack_utilisation,
        threshold, demand_growth_12m, design_racks, pipeline_racks,
        rack_utilisation * design_racks / nullif(design_racks + pipeline_racks, 0)
            AS utilisation_with_pipeline
    FROM marts.region_monthly
    WHERE month = (SELECT month FROM params)
),
starts AS (
    -- The same horizon for both starting utilisations: one formula, two rows per region.
    SELECT level, region_code, 'now' AS start, rack_utilisation AS u, threshold,
           demand_growth_12m AS d
    FROM regions
    UNION ALL
    SELECT level, region_code, 'with_pipeline', utilisation_with_pipeline, threshold,
           demand_growth_12m
    FROM regions
),
horizons AS (
    SELECT level, region_code, start,
           CASE WHEN u IS NULL THEN NULL
                WHEN u >= threshold THEN 0
                WHEN u = 0 OR d IS NULL OR d <= 0 THEN NULL
                ELSE ceil(12 * ln(threshold / u) / ln(1 + d))
           END AS months
    FROM starts
),
limited AS (
    -- Beyond twenty years is no answer at the current trend.
    SELECT level, region_code, start,
           CAST(CASE WHEN months <= 240 THEN months END AS INTEGER) AS months
    FROM horizons
)
SELECT
    r.month,
    r.level,
    r.region_code,
    r.region_name_en,
    r.region_name_zh,
    r.rack_utilisation,
    r.threshold,
    r.demand_growth_12m,
    r.design_racks,
    r.pipeline_racks,
    n.months AS months_to_threshold,
    CAST(r.month + to_months(n.months) AS DATE) AS clears_by,
    r.utilisation_with_pipeline,
    p.months AS months_to_absorb_pipeline
FROM regions AS r
JOIN limited AS n ON n.level = r.level AND n.region_code = r.region_code AND n.start = 'now'
JOIN limited AS p
    ON p.level = r.level AND p.region_code = r.region_code AND p.start = 'with_pipeline'
ORDER BY r.level, r.region_code
