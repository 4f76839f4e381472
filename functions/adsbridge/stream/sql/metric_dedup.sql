-- Amazon delivers metric deltas at least once: keep the first-received row per idempotency_id.
-- Restatements and negative corrections carry their own idempotency_id and are kept (marketing-stream.md §3.12).
CREATE OR REPLACE VIEW ${database}.${view} AS
SELECT *
FROM (
    SELECT t.*, row_number() OVER (PARTITION BY t.idempotency_id ORDER BY t._received_at, t._message_id) AS _rn
    FROM ${database}.${table} t
) ranked
WHERE _rn = 1
