-- Hourly totals per ad product, advertiser and campaign of the latest v2 records; dt and hour are the UTC day and
-- hour of the record's time window start (ISO 8601 text), spelled as the v1 views spell them.
CREATE OR REPLACE VIEW ${database}.${view} AS
SELECT
    ad_product,
    advertiser_id,
    campaign_id,
    substr(${window_start}, 1, 10) AS dt,
    substr(${window_start}, 12, 2) AS hour,
    ${sums},
    count(*) AS records
FROM ${database}.${latest}
GROUP BY ad_product, advertiser_id, campaign_id, substr(${window_start}, 1, 10), substr(${window_start}, 12, 2)
