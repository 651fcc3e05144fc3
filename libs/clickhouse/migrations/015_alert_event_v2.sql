-- alert-event v2 carries the precise state machine (pending, no data, error...), the five-level severity and the
-- acknowledgement's who and why; these columns make the alerts table its full state history. Rows written
-- before v2 keep the defaults: empty status and level (read state and severity), sequence 0, no value.
-- Enums of v2 are LowCardinality(String), not Enum8, so a symbol added to the schema later needs no migration.
ALTER TABLE ${database}.alerts
    ADD COLUMN IF NOT EXISTS status          LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS previous_status LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS level           LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS severity_reason String DEFAULT '',
    ADD COLUMN IF NOT EXISTS sequence        UInt64 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS value           Nullable(Float64),
    ADD COLUMN IF NOT EXISTS flapping        Bool DEFAULT false,
    ADD COLUMN IF NOT EXISTS rule_name       LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS annotations     Map(LowCardinality(String), String),
    ADD COLUMN IF NOT EXISTS actor           String DEFAULT '',
    ADD COLUMN IF NOT EXISTS assignee        String DEFAULT '',
    ADD COLUMN IF NOT EXISTS comment         String DEFAULT '';
