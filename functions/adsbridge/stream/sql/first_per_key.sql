-- The newest row per identity: entity change events by version, budget usage by its update timestamp.
CREATE OR REPLACE VIEW ${database}.${view} AS
SELECT *
FROM (
    SELECT t.*, row_number() OVER (PARTITION BY ${identity} ORDER BY ${newest_first}) AS _rn
    FROM ${database}.${table} t
) ranked
WHERE _rn = 1
