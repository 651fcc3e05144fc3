-- Projections of the event streams. Every table can be dropped and rebuilt by replaying its topic.
-- ${database} is replaced by the configured database name (validated as an identifier) before running.

CREATE DATABASE IF NOT EXISTS ${database};

-- Raw telemetry, one row per sample; ordered for per-device, per-metric time ranges.
CREATE TABLE IF NOT EXISTS ${database}.metrics
(
    device_id   LowCardinality(String),
    metric      LowCardinality(String),
    ts          DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    value       Nullable(Float64) CODEC(Gorilla, ZSTD(1)),
    unit        LowCardinality(String),
    quality     Enum8('GOOD' = 0, 'UNCERTAIN' = 1, 'BAD' = 2),
    labels      Map(LowCardinality(String), String),
    source      LowCardinality(String),
    event_id    String CODEC(ZSTD(1)),
    -- When the row became queryable: freshness and produce-to-queryable latency are measured from it.
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(DoubleDelta, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (device_id, metric, ts)
TTL toDateTime(ts) + INTERVAL 12 MONTH
SETTINGS non_replicated_deduplication_window = 10000;

-- Rollups hold aggregate states, so any bucket can be merged further (an hour from minutes, a day from hours)
-- and quantiles of any level read back with quantileTDigestMerge(level).
CREATE TABLE IF NOT EXISTS ${database}.metrics_1m
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

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.metrics_1m_mv TO ${database}.metrics_1m AS
SELECT
    device_id,
    metric,
    toStartOfMinute(ts) AS ts,
    minState(assumeNotNull(value)) AS min_value,
    maxState(assumeNotNull(value)) AS max_value,
    sumState(assumeNotNull(value)) AS sum_value,
    countState(assumeNotNull(value)) AS count,
    quantileTDigestState(assumeNotNull(value)) AS quantiles
FROM ${database}.metrics
WHERE value IS NOT NULL AND quality != 'BAD'
GROUP BY device_id, metric, ts;

CREATE TABLE IF NOT EXISTS ${database}.metrics_1h
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
PARTITION BY toYear(ts)
ORDER BY (device_id, metric, ts)
TTL ts + INTERVAL 5 YEAR
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.metrics_1h_mv TO ${database}.metrics_1h AS
SELECT
    device_id,
    metric,
    toStartOfHour(ts) AS ts,
    minState(assumeNotNull(value)) AS min_value,
    maxState(assumeNotNull(value)) AS max_value,
    sumState(assumeNotNull(value)) AS sum_value,
    countState(assumeNotNull(value)) AS count,
    quantileTDigestState(assumeNotNull(value)) AS quantiles
FROM ${database}.metrics
WHERE value IS NOT NULL AND quality != 'BAD'
GROUP BY device_id, metric, ts;

CREATE TABLE IF NOT EXISTS ${database}.logs
(
    ts          DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    device_id   LowCardinality(String),
    severity    Enum8('TRACE' = 1, 'DEBUG' = 5, 'INFO' = 9, 'WARN' = 13, 'ERROR' = 17, 'FATAL' = 21),
    body        String CODEC(ZSTD(3)),
    attributes  Map(LowCardinality(String), String),
    trace_id    String,
    span_id     String,
    source      LowCardinality(String),
    event_id    String CODEC(ZSTD(1)),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
    -- "contains" search lower-cases both sides; trigrams let the index skip granules without the text.
    INDEX body_ngrams lower(body) TYPE ngrambf_v1(3, 65536, 2, 0) GRANULARITY 1,
    INDEX trace_id_bloom trace_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (device_id, ts)
TTL toDateTime(ts) + INTERVAL 31 DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ${database}.spans
(
    trace_id       String,
    span_id        String,
    parent_span_id String,
    name           LowCardinality(String),
    service_name   LowCardinality(String),
    device_id      String,
    kind           Enum8('UNSPECIFIED' = 0, 'INTERNAL' = 1, 'SERVER' = 2, 'CLIENT' = 3, 'PRODUCER' = 4, 'CONSUMER' = 5),
    start_time     DateTime64(6, 'UTC'),
    duration_us    UInt64,
    status_code    Enum8('UNSET' = 0, 'OK' = 1, 'ERROR' = 2),
    status_message String,
    attributes     Map(LowCardinality(String), String),
    events         Array(Tuple(time DateTime64(6, 'UTC'), name String, attributes Map(String, String))),
    source         LowCardinality(String),
    event_id       String,
    ingested_at    DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX trace_id_bloom trace_id TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(start_time)
ORDER BY (service_name, name, start_time)
TTL toDateTime(start_time) + INTERVAL 7 DAY
SETTINGS non_replicated_deduplication_window = 10000;

-- Inventory: the newest lifecycle event per device wins (each event carries the full metadata).
CREATE TABLE IF NOT EXISTS ${database}.devices
(
    device_id   String,
    last_event  Enum8('DISCOVERED' = 1, 'UPDATED' = 2, 'REMOVED' = 3, 'ONLINE' = 4, 'OFFLINE' = 5),
    device_type LowCardinality(String),
    vendor      LowCardinality(String),
    model       LowCardinality(String),
    connector   LowCardinality(String),
    online      Bool,
    removed     Bool,
    labels      Map(LowCardinality(String), String),
    metrics     Array(Tuple(name String, unit String)),
    updated_at  DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY device_id
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ${database}.anomalies
(
    ts              DateTime64(3, 'UTC'),
    device_id       LowCardinality(String),
    asset_id        LowCardinality(String),
    window_start    DateTime64(3, 'UTC'),
    window_end      DateTime64(3, 'UTC'),
    score           Float64,
    threshold       Float64,
    contributions   Array(Tuple(metric String, error Float64)),
    model_id        LowCardinality(String),
    model_version   LowCardinality(String),
    event_id        String,
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (device_id, ts, model_id, event_id)
TTL toDateTime(ts) + INTERVAL 12 MONTH
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ${database}.forecasts
(
    ts                 DateTime64(3, 'UTC'),
    device_id          LowCardinality(String),
    metric             LowCardinality(String),
    points             Array(Tuple(ts DateTime64(3, 'UTC'), value Float64, lower Float64, upper Float64)),
    interval_level     Float64,
    limit_lower        Nullable(Float64),
    limit_upper        Nullable(Float64),
    time_to_failure_ms Nullable(Int64),
    risk               Enum8('NONE' = 0, 'LOW' = 1, 'MEDIUM' = 2, 'HIGH' = 3),
    confidence         Nullable(Float64),
    mase               Nullable(Float64),
    model_id           LowCardinality(String),
    model_version      LowCardinality(String),
    event_id           String,
    ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (device_id, metric, ts)
TTL toDateTime(ts) + INTERVAL 3 MONTH
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ${database}.alerts
(
    ts          DateTime64(3, 'UTC'),
    alert_id    String,
    state       Enum8('FIRING' = 1, 'RESOLVED' = 2, 'ACKNOWLEDGED' = 3),
    severity    Enum8('INFO' = 1, 'WARNING' = 2, 'CRITICAL' = 3),
    origin      Enum8('RULE' = 1, 'ANOMALY' = 2, 'FORECAST' = 3),
    rule_id     LowCardinality(String),
    device_id   String,
    title       String,
    description String,
    labels      Map(LowCardinality(String), String),
    event_id    String,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (alert_id, ts)
TTL toDateTime(ts) + INTERVAL 24 MONTH
SETTINGS non_replicated_deduplication_window = 10000;

-- The sink's write-ahead record of each batch it is about to insert: after a crash, the same offset ranges
-- are inserted again with the same deduplication tokens, so a batch lands exactly once.
CREATE TABLE IF NOT EXISTS ${database}.sink_batches
(
    consumer_group LowCardinality(String),
    topic          LowCardinality(String),
    partition      UInt32,
    first_offset   UInt64,
    last_offset    UInt64,
    records        UInt32,
    created_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (consumer_group, topic, partition, first_offset)
TTL toDateTime(created_at) + INTERVAL 30 DAY;
