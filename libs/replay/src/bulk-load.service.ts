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

/** How a rollup is built: from the raw rows with its view's SELECT, or from a finer rollup's states. */
type RollupPlan = { view: RollupView; from: 'raw' } | { view: RollupView; from: RollupView; select: string };

/** A bulk load under way: the replay's raw rows go to `staging` until `build` moves them into `raw`. */
export interface BulkLoad {
  family: ProjectionFamily;
  version: number;
  /** The version's raw table (physical name), which its rollup views read. */
  raw: string;
  staging: string;
  views: RollupView[];
  plans: RollupPlan[];
  /** Parts of the raw staging table whose rollups are built, and of the base rollups' staging tables. */
  built: Map<string, Set<string>>;
  /** A build statement failed: what the staging rollups hold is unknown, `build` starts them over. */
  dirty: boolean;
  /** Engine seconds spent building rollups while the history was still loading. */
  overlappedSeconds: number;
  statements: number;
}

/**
 * The history phase of a rebuild in bulk: when a replay starts filling an empty version whose raw table feeds
 * rollup views (metrics: 1m, 5m, 1h), its rows go to a staging table with no views. While later records
 * load, the rollups of the parts already loaded are built into staging tables of the rollups (`overlap`),
 * so the engine aggregates while JavaScript decodes; `build` builds the rest and moves every staging table's
 * parts into the version's tables. A rollup whose buckets are whole minutes (5m, 1h) is built from the 1m
 * states of the same parts when those are at most half as many rows as the raw ones (many samples per
 * series and minute, as real telemetry has), else from the raw rows. Views cost one rollup row per series
 * and insert block, so this is where a replay into a version with more rollups than the live one gets its
 * speed back. The catch-up that follows live ingest to the swap then writes the raw table with its views.
 *
 * Crash safety rests on three facts: the raw staging table exists exactly while the load is under way
 * (created before the first row, dropped as the build's last step); which staging parts are built is known
 * only to the running process, so every `prepare` empties the staging rollups and builds start over from
 * all staged rows; and `build` empties the version's tables before it attaches anything. A replay killed
 * anywhere resumes into staging from its frontier with the same write-ahead tokens, or repeats the build.
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
    const staging = MetricsRollupBuildRepository.staging(raw);
    const resumed = await this.sql.exists(staging);
    if (!resumed) {
      const tables = this.versions.version(family, version)?.tables ?? [];
      if ((await this.sql.rows(tables.map((t) => physicalName(t, version)))) > 0) return undefined;
    }
    // Rollup staging tables first: a staging raw table always comes with them.
    for (const view of views) await this.sql.createStaging(view.target);
    await this.sql.truncate(views.map((v) => MetricsRollupBuildRepository.staging(v.target)));
    await this.sql.createStaging(raw);
    const plans = await this.plan(views);
    const load: BulkLoad = {
      family,
      version,
      raw,
      staging,
      views,
      plans,
      built: new Map(),
      dirty: false,
      overlappedSeconds: 0,
      statements: 0,
    };
    this.logger.info(
      {
        family,
        version,
        staging,
        resumed,
        derived: plans.flatMap((p) => (p.from === 'raw' ? [] : [`${p.view.target} from ${p.from.target}`])),
      },
      'replay: history loads in bulk',
    );
    return load;
  }

  /**
   * Builds rollups of the staged parts while the history loads, whenever a chunk's worth of rows is staged
   * and not built yet; the returned function stops it (after the statement at hand). A failed statement
   * marks the load dirty and ends the overlap: `build` then starts the rollups over.
   */
  overlap(load: BulkLoad): () => Promise<void> {
    let stopped = false;
    let wake: () => void = () => undefined;
    const loop = (async () => {
      while (!stopped) {
        const started = performance.now();
        try {
          const built = await this.step(load, false, () => stopped);
          if (built) load.overlappedSeconds += (performance.now() - started) / 1000;
          else await new Promise<void>((r) => ((wake = r), setTimeout(r, 500)));
        } catch (error) {
          load.dirty = true;
          this.logger.warn(
            { err: error },
            'replay: a rollup build beside the load failed; built again at the end',
          );
          return;
        }
      }
    })();
    return async () => {
      stopped = true;
      wake();
      await loop;
    };
  }

  /**
   * Builds what is left of every rollup from the staging tables, empties the version's tables, moves the
   * staging tables' parts in and drops them (the raw staging table last). False when stopped (`signal`)
   * before the end: the next run repeats the build.
   */
  async build(load: BulkLoad, signal: AbortSignal): Promise<boolean> {
    const started = performance.now();
    const rows = await this.sql.rows([load.staging]);
    if (load.dirty || !(await this.intact(load))) await this.restart(load);
    await this.step(load, true, () => signal.aborted);
    if (signal.aborted) return false;
    // Every part built is still there (no merge folded built and unbuilt rows together): exact.
    if (!(await this.intact(load))) throw new Error(`parts of ${load.staging} changed during the bulk build`);
    const rollups = load.views.map((v) => v.target);
    await this.sql.truncate([load.raw, ...rollups]);
    for (const target of rollups) await this.sql.attach(target, MetricsRollupBuildRepository.staging(target));
    await this.sql.attach(load.raw, load.staging);
    for (const target of rollups) await this.sql.dropStaging(target);
    await this.sql.dropStaging(load.raw);
    this.logger.info(
      {
        family: load.family,
        version: load.version,
        rows,
        rollups,
        statements: load.statements,
        overlappedSeconds: round1(load.overlappedSeconds),
        seconds: round1((performance.now() - started) / 1000),
      },
      'replay: history built in bulk',
    );
    return true;
  }

  /** Drops a version's unfinished bulk load (the version is emptied or dropped). */
  async discard(family: ProjectionFamily, version: number): Promise<void> {
    const rawTable = BULK_RAW_TABLES[family];
    if (rawTable === undefined) return;
    const raw = physicalName(rawTable, version);
    for (const view of await this.sql.views(raw)) await this.sql.dropStaging(view.target);
    await this.sql.dropStaging(raw);
  }

  /** Each view's rollup from the 1m one's states where that is exact (derivedSelect), else from raw rows. */
  private async plan(views: RollupView[]): Promise<RollupPlan[]> {
    const plans: RollupPlan[] = [];
    for (const view of views) {
      let plan: RollupPlan = { view, from: 'raw' };
      for (const base of views) {
        if (base === view) continue;
        const select = await this.sql.derivedSelect(view, base);
        if (select !== undefined) plan = { view, from: base, select };
      }
      plans.push(plan);
    }
    return plans;
  }

  /**
   * Builds the rollups of staged raw parts not built yet, in groups of about a chunk's rows (the embedded
   * engine runs one statement at a time, so live ingest's inserts wait for at most one group). Without
   * `all`, only when a chunk's worth is waiting. True when it built something.
   */
  private async step(load: BulkLoad, all: boolean, stop: () => boolean): Promise<boolean> {
    const chunk = this.config.bulkBuildChunkRows;
    const done = builtSet(load, load.staging);
    const waiting = (await this.sql.parts(load.staging)).filter((p) => !done.has(p.name));
    const total = waiting.reduce((n, p) => n + p.rows, 0);
    if (waiting.length === 0 || (!all && total < chunk)) return false;
    for (const group of groups(waiting, chunk)) {
      if (stop()) break;
      await this.buildGroup(load, group);
    }
    return true;
  }

  /** One group of raw parts into every rollup's staging table; a derived rollup from its base's new parts. */
  private async buildGroup(load: BulkLoad, group: Array<{ name: string; rows: number }>): Promise<void> {
    const names = group.map((p) => p.name);
    const rawRows = group.reduce((n, p) => n + p.rows, 0);
    const baseParts = new Map<string, string[]>();
    for (const plan of load.plans.filter((p) => p.from === 'raw')) {
      const into = MetricsRollupBuildRepository.staging(plan.view.target);
      await this.statement(load, () => this.sql.buildRollup(plan.view, load.raw, load.staging, names, into));
      // What this statement wrote: the staging rollup's parts not seen before (its merges are stopped).
      const seen = builtSet(load, into);
      const fresh = (await this.sql.parts(into)).filter((p) => !seen.has(p.name));
      for (const p of fresh) seen.add(p.name);
      // Derive only where the base aggregated: with one sample per series and minute, merging the states
      // costs more than aggregating the raw rows again.
      if (fresh.reduce((n, p) => n + p.rows, 0) * 2 <= rawRows)
        baseParts.set(
          plan.view.target,
          fresh.map((p) => p.name),
        );
    }
    for (const plan of load.plans) {
      if (plan.from === 'raw') continue;
      const into = MetricsRollupBuildRepository.staging(plan.view.target);
      const parts = baseParts.get(plan.from.target);
      const from = plan.from;
      await this.statement(load, () =>
        parts === undefined
          ? this.sql.buildRollup(plan.view, load.raw, load.staging, names, into)
          : parts.length === 0
            ? Promise.resolve()
            : this.sql.buildDerived(
                plan.select,
                MetricsRollupBuildRepository.staging(from.target),
                parts,
                into,
              ),
      );
    }
    const done = builtSet(load, load.staging);
    for (const n of names) done.add(n);
  }

  private async statement(load: BulkLoad, run: () => Promise<void>): Promise<void> {
    await run();
    if (++load.statements === this.config.crashInBuildAfter)
      killForFaultInjection(
        { statements: load.statements },
        'fault injection: killing the replay in its bulk build',
      );
  }

  /** Every part recorded as built is still an active part of its table. */
  private async intact(load: BulkLoad): Promise<boolean> {
    for (const [table, names] of load.built) {
      const active = new Set((await this.sql.parts(table)).map((p) => p.name));
      for (const n of names) if (!active.has(n)) return false;
    }
    return true;
  }

  private async restart(load: BulkLoad): Promise<void> {
    this.logger.warn({ staging: load.staging }, 'replay: rollups built beside the load are built again');
    await this.sql.truncate(load.views.map((v) => MetricsRollupBuildRepository.staging(v.target)));
    load.built.clear();
    load.dirty = false;
  }
}

function builtSet(load: BulkLoad, table: string): Set<string> {
  let set = load.built.get(table);
  if (!set) load.built.set(table, (set = new Set()));
  return set;
}

/** Consecutive parts in groups of at most `rows` rows (a larger part alone). */
function groups<T extends { rows: number }>(parts: T[], rows: number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let n = 0;
  for (const p of parts) {
    if (current.length > 0 && n + p.rows > rows) {
      out.push(current);
      current = [];
      n = 0;
    }
    current.push(p);
    n += p.rows;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
