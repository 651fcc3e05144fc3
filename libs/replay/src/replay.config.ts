import { configFields, defineConfigSection } from '@sentio/config';
import { z } from 'zod';

export const replayConfigSection = defineConfigSection(
  'replay',
  z.object({
    /**
     * A replay's buffer is inserted at this size. Larger blocks did not replay faster here and held the
     * embedded engine's one session longer: 200k-400k-row blocks took live ingest's p99 to 9-11 s during a
     * replay, 50k to ~2 s (npm run bench:replay, README).
     */
    maxBatchRecords: configFields.positiveInt().default(50_000),
    /** ...or at this age. */
    flushIntervalMs: configFields.positiveInt().default(2_000),
    /**
     * Catch-up rounds repeat until fewer records than this are left behind the live version; the rest is
     * replayed while live writes to the family are held for the swap (so this bounds how long they wait).
     */
    swapThresholdRecords: configFields.positiveInt().default(20_000),
    /**
     * A rebuild into an empty version whose raw table feeds rollup views loads the history into a staging
     * table without views and builds each rollup once from it (BulkLoadService); false: every block goes
     * through the views, as live ingest's do.
     */
    bulkLoad: configFields.flag().default(true),
    /**
     * Raw rows per statement of a bulk build (a group of staged parts), and the staged rows not built yet
     * that start a build beside the load. The embedded engine runs one statement at a time, so live ingest's
     * inserts wait for the one at hand: ~5 us per rollup row, ~1 s at 200k rows.
     */
    bulkBuildChunkRows: configFields.positiveInt().default(200_000),
    /** Records per second assumed by a dry run's estimate before any replay has been measured here. */
    estimateRatePerSecond: configFields.positiveInt().default(50_000),
    /** Where `sentio archive` writes closed time ranges of each topic (Avro object container files + index). */
    archiveDir: z.string().min(1).default('.sentio/archive'),
    /** Fault injection for the crash test: SIGKILL after this many inserts, before the commit. 0 = never. */
    crashAfterInserts: configFields.nonNegativeInt().default(0),
    /** Fault injection: SIGKILL after this many rollup statements of a bulk build, before it ends. 0 = never. */
    crashInBuildAfter: configFields.nonNegativeInt().default(0),
  }),
  {
    maxBatchRecords: 'REPLAY_MAX_BATCH_RECORDS',
    flushIntervalMs: 'REPLAY_FLUSH_INTERVAL_MS',
    swapThresholdRecords: 'REPLAY_SWAP_THRESHOLD_RECORDS',
    bulkLoad: 'REPLAY_BULK_LOAD',
    bulkBuildChunkRows: 'REPLAY_BULK_BUILD_CHUNK_ROWS',
    estimateRatePerSecond: 'REPLAY_ESTIMATE_RATE',
    archiveDir: 'SENTIO_ARCHIVE_DIR',
    crashAfterInserts: 'SENTIO_FAULT_REPLAY_CRASH_AFTER_INSERTS',
    crashInBuildAfter: 'SENTIO_FAULT_REPLAY_CRASH_IN_BUILD_AFTER',
  },
);

export type ReplayConfig = z.infer<typeof replayConfigSection.schema>;
