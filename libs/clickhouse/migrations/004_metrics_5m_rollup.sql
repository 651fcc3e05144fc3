-- Version 2 of the metrics family: the same raw table and rollups plus a 5-minute rollup. It is created
-- empty beside version 1, which stays live; `sentio replay projection metrics` fills it from the telemetry
-- topic and swaps it in (README, "Replay"). Readers see metrics_5m from the swap on.

CREATE TABLE IF NOT EXISTS ${database}.metrics_v2 AS ${database}.metrics;

CREATE TABLE IF NOT EXISTS ${database}.metrics_1m_v2 AS ${database}.metrics_1m;

CREATE TABLE IF NOT EXISTS ${database}.metrics_1h_v2 AS ${database}.metrics_1h;

CREATE TABLE IF NOT EXISTS ${database}.metrics_5m_v2
(
    device_id LowCardinality(String),
    metric    LowCardinality(String),
    ts        DateTime('UTC'),
    min_value AggregateFunction(min, Float64),
    max_value AggregateFunction(max, Float64),
    sum_value AggregateFunction(sum, Float64),
    count     AggregateFunction(count, Float64),
    quantiles AggregateFunction(quantileTDigest, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (device_id, metric, ts)
TTL ts + INTERVAL 24 MONTH
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.metrics_1m_mv_v2 TO ${database}.metrics_1m_v2 AS
SELECT
    device_id,
    metric,
    toStartOfMinute(ts) AS ts,
    minState(assumeNotNull(value)) AS min_value,
    maxState(assumeNotNull(value)) AS max_value,
    sumState(assumeNotNull(value)) AS sum_value,
    countState(assumeNotNull(value)) AS count,
    quantileTDigestState(assumeNotNull(value)) AS quantiles
FROM ${database}.metrics_v2
WHERE value IS NOT NULL AND quality != 'BAD'
GROUP BY device_id, metric, ts;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.metrics_5m_mv_v2 TO ${database}.metrics_5m_v2 AS
SELECT
    device_id,
    metric,
    toStartOfFiveMinutes(ts) AS ts,
    minState(assumeNotNull(value)) AS min_value,
    maxState(assumeNotNull(value)) AS max_value,
    sumState(assumeNotNull(value)) AS sum_value,
    countState(assumeNotNull(value)) AS count,
    quantileTDigestState(assumeNotNull(value)) AS quantiles
FROM ${database}.metrics_v2
WHERE value IS NOT NULL AND quality != 'BAD'
GROUP BY device_id, metric, ts;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.metrics_1h_mv_v2 TO ${database}.metrics_1h_v2 AS
SELECT
    device_id,
    metric,
    toStartOfHour(ts) AS ts,
    minState(assumeNotNull(value)) AS min_value,
    maxState(assumeNotNull(value)) AS max_value,
    sumState(assumeNotNull(value)) AS sum_value,
    countState(assumeNotNull(value)) AS count,
    quantileTDigestState(assumeNotNull(value)) AS quantiles
FROM ${database}.metrics_v2
WHERE value IS NOT NULL AND quality != 'BAD'
GROUP BY device_id, metric, ts;

INSERT INTO ${database}.projection_versions (family, version, tables, description) VALUES
    ('metrics', 2, ['metrics', 'metrics_1m', 'metrics_5m', 'metrics_1h'], 'adds the 5-minute rollup metrics_5m');
