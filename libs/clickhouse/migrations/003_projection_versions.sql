-- Versions of the projection table families, and the pointer that says which version readers and live ingest
-- use. A family (metrics with its rollups, logs, spans, devices, anomalies, forecasts, alerts) is a set of
-- logical tables; version 1 keeps the original physical names, version N > 1 names them `<table>_v<N>`.
-- A swap is one row inserted into projection_pointers: a single-row insert is atomic, and every query resolves
-- the family's version once, so no query ever mixes tables of two versions (see README, "Replay").

-- Which logical tables a version of a family has, and what changed in it (a version's tables are created by
-- the migration that registers it, or cloned from the live version by `sentio replay projection`).
CREATE TABLE IF NOT EXISTS ${database}.projection_versions
(
    family      LowCardinality(String),
    version     UInt32,
    tables      Array(String),
    description String,
    dropped     Bool DEFAULT false,
    created_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(created_at)
ORDER BY (family, version);

INSERT INTO ${database}.projection_versions (family, version, tables, description) VALUES
    ('metrics', 1, ['metrics', 'metrics_1m', 'metrics_1h'], 'raw samples, 1-minute and 1-hour rollups'),
    ('logs', 1, ['logs'], 'device logs'),
    ('spans', 1, ['spans'], 'trace spans'),
    ('devices', 1, ['devices'], 'device inventory'),
    ('anomalies', 1, ['anomalies'], 'detector anomalies'),
    ('forecasts', 1, ['forecasts'], 'detector forecasts'),
    ('alerts', 1, ['alerts'], 'alert events');

-- The live version of each family: the row with the highest seq wins. No row means version 1.
CREATE TABLE IF NOT EXISTS ${database}.projection_pointers
(
    family     LowCardinality(String),
    seq        UInt64,
    live       UInt32,
    previous   UInt32,
    reason     String,
    changed_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY family;

-- Per version and partition, the next offset of the family's topic that the version has not projected yet
-- (exclusive). A replay commits here; when a version stops being live its frontier is the live ingest's
-- committed offset at the swap, so a later rollback catches it up from exactly there.
CREATE TABLE IF NOT EXISTS ${database}.projection_frontiers
(
    family      LowCardinality(String),
    version     UInt32,
    topic       LowCardinality(String),
    partition   UInt32,
    next_offset UInt64,
    updated_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(next_offset)
ORDER BY (family, version, topic, partition);

-- Replays and their settings, rewritten on every state change (the newest row wins), so an interrupted
-- replay (kill -9, a restart) is found and resumed from its frontier.
CREATE TABLE IF NOT EXISTS ${database}.replays
(
    id          String,
    kind        LowCardinality(String),
    family      LowCardinality(String),
    version     UInt32,
    state       LowCardinality(String),
    from_ms     Nullable(Int64),
    to_ms       Nullable(Int64),
    devices     Array(String),
    detail      String,
    created_at  DateTime64(3, 'UTC'),
    updated_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY id;
