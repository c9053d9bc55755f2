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

-- A centre ID: trimmed and upper-cased; NULL where empty or where bytes were not valid
-- UTF-8 (the reader puts U+FFFD for them).
CREATE OR REPLACE TEMP MACRO telemetry_centre(cell) AS CASE
    WHEN telemetry_trim(cell) <> '' AND NOT contains(cell, chr(65533))
    THEN upper(telemetry_trim(cell)) END;

-- A number as exporters write it: plain, with thousands separators, or (in `;`-separated
-- exports) with a decimal comma; finite. NULL where it is none of these. Plain numbers
-- take the first branch; the text folding runs only for the rest.
CREATE OR REPLACE TEMP MACRO telemetry_number(cell, decimal_comma) AS CASE
    WHEN contains(cell, '_') THEN NULL  -- a digit separator DuckDB would accept
    WHEN isfinite(try_cast(cell AS DOUBLE)) THEN try_cast(cell AS DOUBLE)
    WHEN isfinite(try_cast(CASE WHEN decimal_comma
                                THEN regexp_replace(telemetry_trim(cell), ',', '.')
                                ELSE replace(telemetry_trim(cell), ',', '') END AS DOUBLE))
    THEN try_cast(CASE WHEN decimal_comma THEN regexp_replace(telemetry_trim(cell), ',', '.')
                       ELSE replace(telemetry_trim(cell), ',', '') END AS DOUBLE) END;

-- A sample time, UTC: ISO 8601 with an offset (or Z); without one it is China time
-- (UTC+8); integer epoch seconds, or milliseconds (from 10^11: past the year 5138 in
-- seconds, 1973 in milliseconds).
CREATE OR REPLACE TEMP MACRO telemetry_ts(cell) AS CASE
    WHEN regexp_full_match(telemetry_trim(cell), '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:'
            || '[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})')
        THEN try_cast(telemetry_trim(cell) AS TIMESTAMPTZ)
    WHEN regexp_full_match(telemetry_trim(cell), '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:'
            || '[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?')
        THEN timezone('Asia/Shanghai', try_cast(telemetry_trim(cell) AS TIMESTAMP))
    WHEN regexp_full_match(telemetry_trim(cell), '[0-9]{9,13}')
        THEN timezone('UTC', make_timestamp(CAST(telemetry_trim(cell) AS BIGINT)
            * CASE WHEN CAST(telemetry_trim(cell) AS BIGINT) >= 100000000000 THEN 1000
                   ELSE 1000000 END)) END;
