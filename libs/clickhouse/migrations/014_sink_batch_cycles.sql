-- Ingest inserts one block per flush cycle covering ranges of several partitions of a topic; the write-ahead
-- record keeps one row per range and names the cycle (its deduplication token), so a restart can rebuild the
-- whole block. Empty for ranges written before cycles: each was its own cycle.
ALTER TABLE ${database}.sink_batches ADD COLUMN IF NOT EXISTS cycle String DEFAULT '' CODEC(ZSTD(1));
