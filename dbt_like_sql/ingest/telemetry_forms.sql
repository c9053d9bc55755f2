-- How telemetry cells are read (contract §1.2): each accepted form of a value,
-- defined once, as macros the telemetry transforms call (created on the connection
-- before they run).

-- The white space people pad cells with (Unicode white space: tab, space, no-break
-- and ideographic spaces among them).
CREATE OR REPLACE TEMP MACRO telemetry_white() AS chr(9) || chr(10) || chr(11) || chr(12)
    || chr(13) || chr(32) || chr(133) || chr(160) || chr(5760) || chr(8192) || chr(8193)
    || chr(8194) || chr(8195) || chr(8196) || chr(8197) || chr(8198) || chr(8199) || chr(8200)
    || chr(8201) || chr(8202) || chr(8232) || chr(8233) || chr(8239) || chr(8287) || chr(12288);

-- A cell without that padding; the (slow) trim runs only where an end is white.
CREATE OR REPLACE TEMP MACRO telemetry_trim(cell) AS CASE
    WHEN contains(telemetry_white(), cell[1]) OR contains(telemetry_white(), cell[-1])
    THEN trim(cell, telemetry_white()) ELSE cell END;

-- The macros below read a cell after telemetry_trim (once per cell: it is the slow part).

-- A centre ID: upper-cased; NULL where empty or where bytes were not valid UTF-8 (the
-- reader puts U+FFFD for them).
CREATE OR REPLACE TEMP MACRO telemetry_centre(text) AS CASE
    WHEN text <> '' AND NOT contains(text, chr(65533)) THEN upper(text) END;

-- A number as exporters write it: plain, with thousands separators, or (in `;`-separated
-- exports) with a decimal comma; finite. NULL where it is none of these.
CREATE OR REPLACE TEMP MACRO telemetry_number(text, decimal_comma) AS CASE
    WHEN contains(text, '_') THEN NULL  -- a digit separator DuckDB would accept
    WHEN NOT contains(text, ',') THEN
        CASE WHEN isfinite(try_cast(text AS DOUBLE)) THEN try_cast(text AS DOUBLE) END
    WHEN decimal_comma THEN
        CASE WHEN isfinite(try_cast(regexp_replace(text, ',', '.') AS DOUBLE))
             THEN try_cast(regexp_replace(text, ',', '.') AS DOUBLE) END
    ELSE CASE WHEN isfinite(try_cast(replace(text, ',', '') AS DOUBLE))
              THEN try_cast(replace(text, ',', '') AS DOUBLE) END END;

-- A sample time, UTC: ISO 8601 with an offset (or Z); without one it is China time
-- (UTC+8); integer epoch seconds, or milliseconds (from 10^11: past the year 5138 in
-- seconds, 1973 in milliseconds).
CREATE OR REPLACE TEMP MACRO telemetry_ts(text) AS CASE
    WHEN regexp_full_match(text, '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}'
            || '(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})')
        THEN try_cast(text AS TIMESTAMPTZ)
    WHEN regexp_full_match(text, '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}'
            || '(:[0-9]{2}(\.[0-9]+)?)?')
        THEN timezone('Asia/Shanghai', try_cast(text AS TIMESTAMP))
    WHEN regexp_full_match(text, '[0-9]{9,13}')
        THEN timezone('UTC', make_timestamp(CAST(text AS BIGINT)
            * CASE WHEN CAST(text AS BIGINT) >= 100000000000 THEN 1000 ELSE 1000000 END)) END;
