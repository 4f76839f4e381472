-- One row per key, the first in the given order: the newest version of an entity and the newest notice of a
-- budget scope (ORDER BY ... DESC), or the first-received copy of a budget notice delivered twice.
CREATE OR REPLACE VIEW ${database}.${view} AS
SELECT *
FROM (
    SELECT t.*, row_number() OVER (PARTITION BY ${key} ORDER BY ${order}) AS _rn
    FROM ${database}.${table} t
) ranked
WHERE _rn = 1
