-- State of the query API. Unlike the projections these tables are not rebuilt from a topic: they are the only
-- copy, so back them up. IF NOT EXISTS because releases before this migration created the first two at start.

-- Users; a row is rewritten on every change and the highest version wins.
CREATE TABLE IF NOT EXISTS ${database}.api_users
(
    username      String,
    password_hash String,
    role          Enum8('viewer' = 1, 'operator' = 2, 'admin' = 3),
    token_version UInt32,
    disabled      Bool,
    version       UInt64,
    updated_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY username;

-- Issued refresh tokens (SHA-256 of the secret part); rewritten as revoked when used, so each works once.
CREATE TABLE IF NOT EXISTS ${database}.api_refresh_tokens
(
    token_id      String,
    username      String,
    secret_hash   String,
    token_version UInt32,
    expires_at    DateTime64(3, 'UTC'),
    revoked       Bool,
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY token_id
TTL toDateTime(expires_at) + INTERVAL 1 DAY;

-- API keys of machine clients (SHA-256 of the secret part); revoking rewrites the row.
CREATE TABLE IF NOT EXISTS ${database}.api_keys
(
    key_id      String,
    name        String,
    role        Enum8('viewer' = 1, 'operator' = 2, 'admin' = 3),
    secret_hash String,
    created_by  String,
    created_at  DateTime64(3, 'UTC'),
    revoked     Bool,
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY key_id;

-- Who did what to the API's users and keys, and when; append only.
CREATE TABLE IF NOT EXISTS ${database}.api_audit
(
    ts         DateTime64(3, 'UTC'),
    actor      String,
    actor_kind Enum8('user' = 1, 'api-key' = 2, 'system' = 3),
    action     LowCardinality(String),
    target     String,
    detail     String,
    ip         String,
    event_id   String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, event_id)
TTL toDateTime(ts) + INTERVAL 5 YEAR;
