-- Forecasts of history recomputed by a re-score (`sentio replay detectors --model <version>`), beside the live
-- `forecasts` and never in it, tagged with the run and the model version they were recomputed under (the
-- device's anomaly model of that version; the forecaster itself is `model_id`). A run repeated after a
-- crash writes the same event ids again; ReplacingMergeTree and FINAL reads make each count once.
CREATE TABLE IF NOT EXISTS ${database}.forecast_rescores
(
    replay_id          LowCardinality(String),
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
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (replay_id, device_id, metric, ts, event_id)
TTL toDateTime(ts) + INTERVAL 3 MONTH;
