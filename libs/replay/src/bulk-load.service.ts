import { Inject, Injectable } from '@nestjs/common';
import {
  ClickHouseStore,
  MetricsRollupBuildRepository,
  physicalName,
  ProjectionVersions,
  type ProjectionFamily,
  type RollupView,
} from '@sentio/clickhouse';
import { LOGGER, type Logger } from '@sentio/observability';
import { killForFaultInjection } from './fault-injection.util.js';
import type { ReplayConfig } from './replay.config.js';
import { REPLAY_CONFIG } from './replay.tokens.js';

/** The families whose raw table feeds rollup views, and that table: their history can load in bulk. */
const BULK_RAW_TABLES: Partial<Record<ProjectionFamily, string>> = { metrics: 'metrics' };

/** A bulk load under way: the replay's raw rows go to `staging` until `build` moves them into `raw`. */
export interface BulkLoad {
  family: ProjectionFamily;
  version: number;
  /** The version's raw table (physical name), which its rollup views read. */
  raw: string;
  staging: string;
  views: RollupView[];
}

/**
 * The history phase of a rebuild in bulk: when a replay starts filling an empty version whose raw table feeds
 * rollup views (metrics: 1m, 5m, 1h), its rows go to a staging table with no views, and once the history is
 * in, each rollup is built once from all of them (`build`). Views cost one rollup row per series and insert
 * block, so this is where a replay into a version with more rollups than the live one gets its speed back.
 * The catch-up that follows live ingest to the swap then writes the raw table with its views, as ingest does.
 *
 * Crash safety rests on two facts: the staging table exists exactly while the load is under way (created
 * before the first row, dropped as the build's last step), and the build is idempotent (it empties the
 * version's tables and rebuilds them all from staging), so a replay killed anywhere resumes into staging from
 * its frontier with the same write-ahead tokens, or repeats the whole build.
 */
@Injectable()
export class BulkLoadService {
  private readonly sql: MetricsRollupBuildRepository;
  private readonly logger: Logger;

  constructor(
    @Inject(REPLAY_CONFIG) private readonly config: ReplayConfig,
    @Inject(ClickHouseStore) store: ClickHouseStore,
    @Inject(ProjectionVersions) private readonly versions: ProjectionVersions,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.sql = new MetricsRollupBuildRepository(store);
    this.logger = logger.child({ component: 'replay' });
  }

  /**
   * The bulk load of the version that is under way, else a new one when the version is empty and its raw
   * table feeds views; undefined when the replay writes the version's tables directly.
   */
  async prepare(family: ProjectionFamily, version: number): Promise<BulkLoad | undefined> {
    const rawTable = BULK_RAW_TABLES[family];
    if (!this.config.bulkLoad || rawTable === undefined) return undefined;
    const raw = physicalName(rawTable, version);
    const views = await this.sql.views(raw);
    if (views.length === 0) return undefined;
    const load = { family, version, raw, staging: MetricsRollupBuildRepository.staging(raw), views };
    if (await this.sql.exists(load.staging)) return load;
    const tables = this.versions.version(family, version)?.tables ?? [];
    if ((await this.sql.rows(tables.map((t) => physicalName(t, version)))) > 0) return undefined;
    await this.sql.createStaging(raw);
    this.logger.info({ family, version, staging: load.staging }, 'replay: history loads in bulk');
    return load;
  }

  /**
   * Empties the version's tables, builds every rollup from the staging table (in device ranges, so live
   * ingest's inserts get turns on the engine between them), moves the raw rows in as whole parts and drops
   * the staging table. False when stopped (`signal`) before the end: the next run repeats the build.
   */
  async build(load: BulkLoad, signal: AbortSignal): Promise<boolean> {
    const started = performance.now();
    const rows = await this.sql.rows([load.staging]);
    await this.sql.truncate([load.raw, ...load.views.map((v) => v.target)]);
    const ranges = await this.sql.deviceRanges(load.staging, this.config.bulkBuildChunkRows);
    let statements = 0;
    for (const view of load.views) {
      for (const range of ranges) {
        if (signal.aborted) return false;
        await this.sql.buildRollup(view, load.raw, load.staging, range);
        if (++statements === this.config.crashInBuildAfter)
          killForFaultInjection({ statements }, 'fault injection: killing the replay in its bulk build');
      }
    }
    if (signal.aborted) return false;
    await this.sql.attachRaw(load.raw, load.staging);
    await this.sql.dropStaging(load.raw);
    this.logger.info(
      {
        family: load.family,
        version: load.version,
        rows,
        rollups: load.views.map((v) => v.target),
        chunks: ranges.length,
        seconds: Math.round((performance.now() - started) / 100) / 10,
      },
      'replay: history built in bulk',
    );
    return true;
  }

  /** Drops a version's unfinished bulk load (the version is emptied or dropped). */
  async discard(family: ProjectionFamily, version: number): Promise<void> {
    const rawTable = BULK_RAW_TABLES[family];
    if (rawTable !== undefined) await this.sql.dropStaging(physicalName(rawTable, version));
  }
}
