-- Anomalies of history re-scored with another model version (`sentio replay detectors`), beside the live
-- `anomalies` and never in it: the live table keeps what the running detectors said. A re-score run repeated
-- after a crash writes the same event ids again; ReplacingMergeTree and FINAL reads make each count once.
CREATE TABLE IF NOT EXISTS ${database}.anomaly_rescores
(
    replay_id       LowCardinality(String),
    ts              DateTime64(3, 'UTC'),
    device_id       LowCardinality(String),
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
ORDER BY (replay_id, device_id, ts, event_id)
TTL toDateTime(ts) + INTERVAL 12 MONTH;
