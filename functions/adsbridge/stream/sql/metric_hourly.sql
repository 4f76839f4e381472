-- Hourly sums of the de-duplicated deltas, grouped by Amazon's keys; dt/hour is time_window_start in UTC.
CREATE OR REPLACE VIEW ${database}.${view} AS
SELECT
    ${keys},
    dt,
    hour,
    ${sums},
    count(*) AS records
FROM ${database}.${dedup}
GROUP BY ${keys}, dt, hour
