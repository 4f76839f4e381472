-- Openbridge's table name over one of our de-duplicated views, with the raw table's columns and partitions
-- (docs/marketing-stream.md#coming-from-openbridge).
CREATE OR REPLACE VIEW ${database}.${view} AS
SELECT
    ${columns}
FROM ${database}.${source}
