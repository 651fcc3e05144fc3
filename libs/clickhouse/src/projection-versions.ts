import type { Logger } from '@sentio/observability';
import type { ClickHouseStore } from './clickhouse-store.js';
import { columnMap } from './column-map.util.js';

/**
 * How ClickHouseStore turns a table name into a physical table, and holds writes while a family is swapped.
 * The default resolves nothing: a store without ProjectionVersions attached uses names as they are.
 */
export interface TableVersions {
  physical(table: string): string;
  /** Undefined when the write may go ahead now; otherwise a promise that resolves when it may. */
  beginWrite(table: string): Promise<void> | undefined;
  endWrite(table: string): void;
  /** Whether the live version of the table's family has this logical table; undefined when unversioned. */
  isLive?(table: string): boolean;
}

export const directTables: TableVersions = {
  physical: (table) => table,
  beginWrite: () => undefined,
  endWrite: () => undefined,
};

/** The projection table families and the logical tables of their first version (migration 001). */
export const PROJECTION_FAMILIES = {
  metrics: ['metrics', 'metrics_1m', 'metrics_1h'],
  logs: ['logs'],
  spans: ['spans'],
  devices: ['devices'],
  anomalies: ['anomalies'],
  forecasts: ['forecasts'],
  alerts: ['alerts'],
} as const;

export type ProjectionFamily = keyof typeof PROJECTION_FAMILIES;

export function isProjectionFamily(name: string): name is ProjectionFamily {
  return Object.hasOwn(PROJECTION_FAMILIES, name);
}

/** Version 1 keeps the original names; version N > 1 suffixes them, views included (`metrics_1m_mv_v2`). */
export function physicalName(table: string, version: number): string {
  return version === 1 ? table : `${table}_v${version}`;
}

/** `metrics@2`: a table of one version, whatever is live. Replays write through these names. */
export function pinned(table: string, version: number): string {
  return `${table}@${version}`;
}

export interface VersionInfo {
  family: ProjectionFamily;
  version: number;
  tables: string[];
  description: string;
  dropped: boolean;
}

export interface Pointer {
  family: ProjectionFamily;
  seq: number;
  live: number;
  previous: number;
  reason: string;
}

interface Gate {
  opened: Promise<void>;
  open: () => void;
}

const pointerColumns = columnMap<Pointer>({
  family: (p) => p.family,
  seq: (p) => p.seq,
  live: (p) => p.live,
  previous: (p) => p.previous,
  reason: (p) => p.reason,
});

const versionColumns = columnMap<VersionInfo>({
  family: (v) => v.family,
  version: (v) => v.version,
  tables: (v) => v.tables,
  description: (v) => v.description,
  dropped: (v) => v.dropped,
});

/**
 * The version pointer of every projection family, as readers and writers of this process see it.
 *
 * Readers: `store.table('metrics_1m')` resolves to the live version's physical table. A query builds its SQL
 * synchronously from one snapshot of the pointers (`apply` replaces the snapshot in one assignment), so a
 * query never names tables of two versions. Pointers written by another process are picked up by `refresh`.
 *
 * Writers (live ingest) use the same logical names. A swap closes the family's gate: new writes wait, the
 * ones in flight finish, the caller catches the new version up to exactly what the live one holds, flips the
 * pointer and opens the gate; the next live insert lands in the new version.
 */
export class ProjectionVersions implements TableVersions {
  private familyOf = new Map<string, ProjectionFamily>();
  private live = new Map<ProjectionFamily, { version: number; tables: ReadonlySet<string> }>();
  private versions: VersionInfo[] = [];
  private readonly gates = new Map<ProjectionFamily, Gate>();
  private readonly inFlight = new Map<ProjectionFamily, number>();
  private readonly idle = new Map<ProjectionFamily, Array<() => void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ClickHouseStore,
    private readonly logger: Logger,
  ) {}

  /** Loads the pointers and attaches the resolver to the store; refreshes every `refreshMs` (0: never). */
  static async attach(store: ClickHouseStore, logger: Logger, refreshMs = 2000): Promise<ProjectionVersions> {
    const versions = new ProjectionVersions(store, logger);
    await versions.refresh();
    store.versions = versions;
    if (refreshMs > 0) {
      versions.timer = setInterval(() => {
        versions.refresh().catch((error: unknown) => {
          logger.warn({ err: error }, 'projection versions: refresh failed; keeping the last pointers');
        });
      }, refreshMs);
      versions.timer.unref();
    }
    return versions;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Re-reads versions and pointers (written by this or another process). */
  async refresh(): Promise<void> {
    const versions = await this.store.query<{
      f: string;
      v: number;
      t: string[];
      d: string;
      x: boolean | number;
    }>(
      `SELECT family AS f, version AS v, argMax(tables, created_at) AS t,
              argMax(description, created_at) AS d, argMax(dropped, created_at) AS x
       FROM ${this.store.table('projection_versions')}
       GROUP BY f, v ORDER BY f, v`,
    );
    const pointers = await this.pointers();
    this.versions = versions
      .filter((v) => isProjectionFamily(v.f))
      .map((v) => ({
        family: v.f as ProjectionFamily,
        version: Number(v.v),
        tables: v.t,
        description: v.d,
        dropped: Boolean(v.x),
      }));
    const familyOf = new Map<string, ProjectionFamily>();
    for (const v of this.versions) for (const t of v.tables) familyOf.set(t, v.family);
    const live = new Map<ProjectionFamily, { version: number; tables: ReadonlySet<string> }>();
    for (const family of Object.keys(PROJECTION_FAMILIES) as ProjectionFamily[]) {
      const version = pointers.get(family)?.live ?? 1;
      const info = this.versions.find((v) => v.family === family && v.version === version);
      live.set(family, {
        version,
        tables: new Set(info?.tables ?? PROJECTION_FAMILIES[family]),
      });
    }
    // One assignment each: a query being built keeps the snapshot it started with.
    this.familyOf = familyOf;
    this.live = live;
  }

  async pointers(): Promise<Map<ProjectionFamily, Pointer>> {
    const rows = await this.store.query<{
      family: string;
      top: string;
      live_version: number;
      previous_version: number;
      why: string;
    }>(
      `SELECT family, max(seq) AS top, argMax(live, seq) AS live_version,
              argMax(previous, seq) AS previous_version, argMax(reason, seq) AS why
       FROM ${this.store.table('projection_pointers')} GROUP BY family`,
    );
    return new Map(
      rows
        .filter((r) => isProjectionFamily(r.family))
        .map((r) => [
          r.family as ProjectionFamily,
          {
            family: r.family as ProjectionFamily,
            seq: Number(r.top),
            live: Number(r.live_version),
            previous: Number(r.previous_version),
            reason: r.why,
          },
        ]),
    );
  }

  liveVersion(family: ProjectionFamily): number {
    return this.live.get(family)?.version ?? 1;
  }

  list(family?: ProjectionFamily): VersionInfo[] {
    return this.versions.filter((v) => family === undefined || v.family === family);
  }

  version(family: ProjectionFamily, version: number): VersionInfo | undefined {
    return this.versions.find((v) => v.family === family && v.version === version);
  }

  /** Whether the live version of the table's family has this logical table (e.g. metrics_5m). */
  isLive(table: string): boolean {
    const family = this.familyOf.get(table);
    return family !== undefined && (this.live.get(family)?.tables.has(table) ?? false);
  }

  physical(table: string): string {
    const at = table.indexOf('@');
    if (at > 0) {
      const name = table.slice(0, at);
      const version = Number(table.slice(at + 1));
      const family = this.familyOf.get(name);
      const info = family && this.version(family, version);
      if (!info || !info.tables.includes(name))
        throw new Error(`table ${name} is not part of version ${version} of its family`);
      return physicalName(name, version);
    }
    const family = this.familyOf.get(table);
    if (family === undefined) return table;
    const live = this.live.get(family);
    if (!live) return table;
    if (!live.tables.has(table)) {
      throw new Error(
        `${table} is not part of the live version ${live.version} of ${family}; it arrives with a newer version`,
      );
    }
    return physicalName(table, live.version);
  }

  beginWrite(table: string): Promise<void> | undefined {
    const family = table.includes('@') ? undefined : this.familyOf.get(table);
    if (family === undefined) return undefined;
    const gate = this.gates.get(family);
    if (gate) {
      return gate.opened.then(() => {
        const again = this.beginWrite(table);
        return again;
      });
    }
    this.inFlight.set(family, (this.inFlight.get(family) ?? 0) + 1);
    return undefined;
  }

  endWrite(table: string): void {
    const family = table.includes('@') ? undefined : this.familyOf.get(table);
    if (family === undefined) return;
    const left = (this.inFlight.get(family) ?? 1) - 1;
    this.inFlight.set(family, left);
    if (left === 0) for (const wake of this.idle.get(family)?.splice(0) ?? []) wake();
  }

  /**
   * Holds the family's writes (new ones wait, the ones in flight finish) while `work` runs, then flips the
   * pointer to `pointer.live` and lets the writes go on into that version. One swap per process at a time.
   */
  async swapUnderGate<T>(
    family: ProjectionFamily,
    work: () => Promise<{ result: T; pointer: Omit<Pointer, 'seq' | 'family'> | undefined }>,
  ): Promise<T> {
    if (this.gates.has(family)) throw new Error(`a swap of ${family} is already in progress`);
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    this.gates.set(family, { opened, open });
    const started = performance.now();
    try {
      if ((this.inFlight.get(family) ?? 0) > 0) {
        await new Promise<void>((resolve) => {
          const waiting = this.idle.get(family) ?? [];
          waiting.push(resolve);
          this.idle.set(family, waiting);
        });
      }
      const { result, pointer } = await work();
      if (pointer) await this.setPointer(family, pointer);
      return result;
    } finally {
      this.gates.delete(family);
      open();
      this.logger.info(
        { family, heldMs: Math.round(performance.now() - started) },
        'projection versions: write gate reopened',
      );
    }
  }

  /** Writes the pointer row (the atomic step of a swap) and applies it in this process at once. */
  async setPointer(family: ProjectionFamily, pointer: Omit<Pointer, 'seq' | 'family'>): Promise<void> {
    const current = (await this.pointers()).get(family);
    const seq = Math.max(Date.now(), (current?.seq ?? 0) + 1);
    const row: Pointer = { family, seq, ...pointer };
    await this.store.insert('projection_pointers', pointerColumns, [row], `pointer-${family}-${seq}`);
    await this.refresh();
    this.logger.info({ ...row }, 'projection versions: pointer moved');
  }

  async register(info: Omit<VersionInfo, 'dropped'>, dropped = false): Promise<void> {
    await this.store.insert(
      'projection_versions',
      versionColumns,
      [{ ...info, dropped }],
      `version-${info.family}-${info.version}-${dropped}-${Date.now()}`,
    );
    await this.refresh();
  }
}
