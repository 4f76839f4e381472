-- Stream v2 sends replacement totals per time window, restated possibly out of order: per full record key (every
-- dimension and the time window) the row of the highest streamBatch.version is the record
-- (docs/marketing-stream.md#stream-v2-files). Columns are named, not t.*: the catalog Lambda adds table columns as files
-- bring them, and a view selecting t.* would be reported stale by Athena after each.
CREATE OR REPLACE VIEW ${database}.${view} AS
SELECT ${columns}
FROM (
    SELECT flat.*, row_number() OVER (PARTITION BY ${record_key} ORDER BY version DESC) AS _rn
    FROM (
        SELECT
            ${projection}
        FROM ${database}.${table} t
    ) flat
) ranked
WHERE _rn = 1
