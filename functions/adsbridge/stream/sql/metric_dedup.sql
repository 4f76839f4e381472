-- Amazon delivers metric deltas at least once: keep the first-received row per idempotency_id.
-- Restatements and negative corrections carry their own idempotency_id and are kept
-- (docs/marketing-stream.md#deduplication).
-- dt and hour lead the window's PARTITION BY (a record's copies share them: both come from its own
-- time_window_start), so Athena can push a query's dt/hour filter below the window instead of reading all days.
CREATE OR REPLACE VIEW ${database}.${view} AS
SELECT *
FROM (
    SELECT t.*, row_number() OVER (PARTITION BY t.dt, t.hour, t.idempotency_id ORDER BY t._received_at, t._message_id) AS _rn
    FROM ${database}.${table} t
) ranked
WHERE _rn = 1
