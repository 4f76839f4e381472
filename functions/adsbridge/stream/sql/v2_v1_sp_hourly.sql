-- Sponsored Products clicks, impressions and cost per campaign and hour from v2 beside the same from v1's
-- sp_traffic_hourly: a FULL JOIN, so an hour only one side has shows with the other side null.
CREATE OR REPLACE VIEW ${database}.${view} AS
SELECT
    coalesce(v2.campaign_id, v1.campaign_id) AS campaign_id,
    coalesce(v2.dt, v1.dt) AS dt,
    coalesce(v2.hour, v1.hour) AS hour,
    v2.clicks AS v2_clicks,
    v1.clicks AS v1_clicks,
    v2.impressions AS v2_impressions,
    v1.impressions AS v1_impressions,
    v2.cost AS v2_cost,
    v1.cost AS v1_cost
FROM (
    SELECT campaign_id, dt, hour, sum(clicks) AS clicks, sum(impressions) AS impressions, sum(cost) AS cost
    FROM ${database}.${v2_hourly}
    WHERE ad_product = '${sponsored_products}'
    GROUP BY campaign_id, dt, hour
) v2
FULL OUTER JOIN (
    SELECT campaign_id, dt, hour, sum(clicks) AS clicks, sum(impressions) AS impressions, sum(cost) AS cost
    FROM ${v1_database}.${v1_hourly}
    GROUP BY campaign_id, dt, hour
) v1
    ON v2.campaign_id = v1.campaign_id AND v2.dt = v1.dt AND v2.hour = v1.hour
