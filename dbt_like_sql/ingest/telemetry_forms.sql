-- How telemetry cells are read (contract §1.2): each accepted form of a value,
-- defined once, as macros the telemetry transforms call (created on the connection
-- before they run).

-- A cell without the white space people pad it with: the code points of Unicode white
-- space, tab to carriage return, U+0085 and the separators \p{Z} (no-break and ideographic
-- spaces among them). One function: a macro's every use is planned anew, per file. A
-- cell that starts and ends with printable ASCII other than the space (most cells) has
-- nothing to trim, which is cheaper to see than to seek with the expression.
CREATE OR REPLACE TEMP MACRO telemetry_trim(cell) AS CASE
    WHEN ascii(cell) BETWEEN 33 AND 126 AND ascii(substring(cell, -1, 1)) BETWEEN 33 AND 126
        THEN cell
    ELSE regexp_replace(cell, '^[\t-\r\x{85}\p{Z}]+|[\t-\r\x{85}\p{Z}]+$', '', 'g') END;

-- The macros below read a trimmed cell; a cell they read as it is reads the same trimmed,
-- so the transforms trim only the cells that fail as they are.

-- A centre ID: upper-cased; NULL where empty or where bytes were not valid UTF-8 (the
-- reader puts U+FFFD for them).
CREATE OR REPLACE TEMP MACRO telemetry_centre(text) AS CASE
    WHEN text <> '' AND NOT contains(text, chr(65533)) THEN upper(text) END;

-- A number is finite: NaN and ±infinity are NULL. A number the export types (a DOUBLE
-- or integer column) is read by this alone.
CREATE OR REPLACE TEMP MACRO telemetry_finite(number) AS
    CASE WHEN isfinite(number) THEN number END;

-- A number as exporters write it: plain, with thousands separators, or (in `;`-separated
-- exports) with a decimal comma; finite. NULL where it is none of these. The text is
-- named once: a macro's argument is written into its body at every use, and the forms
-- read trimmed cells (planning grows with the expression).
CREATE OR REPLACE TEMP MACRO telemetry_number(text, decimal_comma) AS
    telemetry_finite(try_cast(replace(
        -- `_` is a digit separator DuckDB would accept: made a `#`, the cast fails.
        -- A number has one decimal mark: where a comma is one, a second comma or a
        -- point fails the cast.
        replace(text, '_', '#'), ',', CASE WHEN decimal_comma THEN '.' ELSE '' END)
        AS DOUBLE));

-- A number the export types (a Parquet DOUBLE or FLOAT) as a finding quotes it: DuckDB's
-- text, the shortest that reads back as the same number, plain from 0.0001 to below
-- 10^16 (`10000000.0`), else with an exponent (`1.5e-07`, `1e+16`).
CREATE OR REPLACE TEMP MACRO telemetry_number_text(number) AS CAST(number AS VARCHAR);

-- A measure as written: the number where the export types it (`typed`), else its text
-- read (a typed cell's text is only '' or NULL: not read where the number is there).
CREATE OR REPLACE TEMP MACRO telemetry_measure(typed, text, decimal_comma) AS CASE
    WHEN typed IS NULL THEN telemetry_number(text, decimal_comma)
    ELSE telemetry_finite(typed) END;

-- A number read as written, or where that failed on a cell with text, read again
-- trimmed.
CREATE OR REPLACE TEMP MACRO telemetry_number_retried(as_written, text, decimal_comma) AS
    CASE WHEN as_written IS NULL AND text IS NOT NULL
         THEN telemetry_number(telemetry_trim(text), decimal_comma)
         ELSE as_written END;

-- The parts of an ISO 8601 time, as patterns: a date and a time of day, to the minute,
-- the second or a fraction of it; the end of a day, 24:00; an offset from UTC, Z or at
-- most ±18:00, to the hour or the minute (the widest any zone library takes: DuckDB's
-- cast would take more, Spark's would not).
CREATE OR REPLACE TEMP MACRO iso_date_time() AS
    '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?';
CREATE OR REPLACE TEMP MACRO iso_day_end() AS '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]24:00(:00(\.0+)?)?';
CREATE OR REPLACE TEMP MACRO iso_offset() AS
    '([Zz]|[+-](0[0-9]|1[0-7])(:?[0-5][0-9])?|[+-]18(:?00)?)';

-- A sample time, UTC: ISO 8601 with an offset (or Z); without one it is China time
-- (UTC+8); 24:00, the end of a day, is the next day's 00:00; integer epoch seconds, or
-- milliseconds (from 10^11: past the year 5138 in seconds, 1973 in milliseconds).
CREATE OR REPLACE TEMP MACRO telemetry_ts(text) AS CASE
    -- The commonest form, UTC to the second, is told by a pattern cheaper than the
    -- expressions below (of which it is one case).
    WHEN strlen(text) = 20 AND (
            text GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[01][0-9]:[0-5][0-9]:[0-5][0-9]Z'
            OR text GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T2[0-3]:[0-5][0-9]:[0-5][0-9]Z')
        THEN try_cast(text AS TIMESTAMPTZ)
    WHEN regexp_full_match(text, iso_date_time() || iso_offset())
        -- DuckDB's cast reads an offset after the seconds only.
        THEN try_cast(CASE WHEN substring(text, 17, 1) = ':' THEN text
                           ELSE left(text, 16) || ':00' || substring(text, 17) END
                      AS TIMESTAMPTZ)
    WHEN regexp_full_match(text, iso_date_time())
        THEN china_instant(try_cast(text AS TIMESTAMP))
    WHEN regexp_full_match(text, '[0-9]{9,13}')
        THEN timezone('UTC', make_timestamp(CAST(text AS BIGINT)
            * CASE WHEN CAST(text AS BIGINT) >= 100000000000 THEN 1000 ELSE 1000000 END))
    WHEN regexp_full_match(text, iso_day_end() || iso_offset())
        THEN try_cast(left(text, 10) || 'T00:00:00' || regexp_extract(text, iso_offset() || '$', 0)
                      AS TIMESTAMPTZ) + INTERVAL 1 DAY
    WHEN regexp_full_match(text, iso_day_end())
        THEN china_instant(try_cast(left(text, 10) AS TIMESTAMP) + INTERVAL 1 DAY) END;
