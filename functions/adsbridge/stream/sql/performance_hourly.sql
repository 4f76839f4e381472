-- Traffic joined to conversions per Amazon's key (the traffic key without its text columns).
-- A LEFT JOIN: conversions without traffic are a known Amazon bug to ignore
-- (docs/marketing-stream.md#aggregation-keys).
CREATE OR REPLACE VIEW ${database}.${view} AS
SELECT
    t.*,
    ${conversion_columns}
FROM ${database}.${traffic} t
LEFT JOIN ${database}.${conversion} c
    ON ${join_on}
