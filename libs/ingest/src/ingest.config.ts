import { configFields, defineConfigSection } from '@sentio/config';
import { z } from 'zod';

export const ingestConfigSection = defineConfigSection(
  'ingest',
  z.object({
    groupId: z.string().min(1).default('sentio-ingest'),
    /** A partition's buffer is inserted when it is this old: the latency floor of produce-to-queryable. */
    flushIntervalMs: configFields.positiveInt().default(250),
    /** ...or when it holds this many records: bigger blocks are cheaper per row for ClickHouse. */
    maxBatchRecords: configFields.positiveInt().default(50_000),
    /** Partitions handled at once: one partition's records decode while another's insert runs. */
    partitionConcurrency: configFields.positiveInt().default(3),
    /** Fault injection for the crash test: die (SIGKILL) after this many inserts, before the commit. 0 = never. */
    crashAfterInserts: configFields.nonNegativeInt().default(0),
  }),
  {
    groupId: 'INGEST_GROUP_ID',
    flushIntervalMs: 'INGEST_FLUSH_INTERVAL_MS',
    maxBatchRecords: 'INGEST_MAX_BATCH_RECORDS',
    partitionConcurrency: 'INGEST_PARTITION_CONCURRENCY',
    crashAfterInserts: 'SENTIO_FAULT_CRASH_AFTER_INSERTS',
  },
);

export type IngestConfig = z.infer<typeof ingestConfigSection.schema>;
