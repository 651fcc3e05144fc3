import type { ClickHouseStore } from '../clickhouse-store.js';
import { columnMap } from '../column-map.util.js';

export type ReplayState = 'running' | 'paused' | 'interrupted' | 'done' | 'failed' | 'cancelled';

export interface ReplayRecord {
  id: string;
  /** `projection` (rebuild a family into a version), `catch-up` (a rollback's), `detectors` (re-score). */
  kind: string;
  family: string;
  version: number;
  state: ReplayState;
  fromMs: number | null;
  toMs: number | null;
  devices: string[];
  /** JSON: settings and the last progress (records, rate), so a resumed or listed replay can show them. */
  detail: string;
  createdAtMs: number;
}

export interface Frontier {
  topic: string;
  partition: number;
  nextOffset: string;
}

const replayColumns = columnMap<ReplayRecord>({
  id: (r) => r.id,
  kind: (r) => r.kind,
  family: (r) => r.family,
  version: (r) => r.version,
  state: (r) => r.state,
  from_ms: (r) => r.fromMs,
  to_ms: (r) => r.toMs,
  devices: (r) => r.devices,
  detail: (r) => r.detail,
  created_at: (r) => r.createdAtMs,
  updated_at: () => Date.now(),
});

const frontierColumns = columnMap<Frontier & { family: string; version: number }>({
  family: (f) => f.family,
  version: (f) => f.version,
  topic: (f) => f.topic,
  partition: (f) => f.partition,
  next_offset: (f) => f.nextOffset,
});

/**
 * Replays and the projection frontiers (per version and partition, the next offset not yet projected).
 * A frontier only moves forward (ReplacingMergeTree keeps the highest offset): it is the replay's commit.
 */
export class ReplaysRepository {
  constructor(private readonly store: ClickHouseStore) {}

  save(replay: ReplayRecord): Promise<void> {
    return this.store.insert('replays', replayColumns, [replay], `replay-${replay.id}-${Date.now()}`);
  }

  async list(): Promise<ReplayRecord[]> {
    const rows = await this.store.query<{
      id: string;
      k: string;
      f: string;
      v: number;
      s: ReplayState;
      fm: string | null;
      tm: string | null;
      ds: string[];
      dt: string;
      created_ms: string;
    }>(
      `SELECT id, argMax(kind, updated_at) AS k, argMax(family, updated_at) AS f,
              argMax(version, updated_at) AS v, argMax(state, updated_at) AS s,
              argMax(from_ms, updated_at) AS fm, argMax(to_ms, updated_at) AS tm,
              argMax(devices, updated_at) AS ds, argMax(detail, updated_at) AS dt,
              toUnixTimestamp64Milli(min(created_at)) AS created_ms
       FROM ${this.store.table('replays')} GROUP BY id ORDER BY created_ms`,
    );
    return rows.map((r) => ({
      id: r.id,
      kind: r.k,
      family: r.f,
      version: Number(r.v),
      state: r.s,
      fromMs: r.fm === null ? null : Number(r.fm),
      toMs: r.tm === null ? null : Number(r.tm),
      devices: r.ds,
      detail: r.dt,
      createdAtMs: Number(r.created_ms),
    }));
  }

  commitFrontier(family: string, version: number, frontier: Frontier): Promise<void> {
    return this.store.insert(
      'projection_frontiers',
      frontierColumns,
      [{ family, version, ...frontier }],
      `frontier-${family}-${version}-${frontier.topic}-${frontier.partition}-${frontier.nextOffset}`,
    );
  }

  /** Several partitions' frontiers in one insert (a replay's flush cycle spans many partitions). */
  commitFrontiers(family: string, version: number, frontiers: readonly Frontier[]): Promise<void> {
    const key = frontiers.map((f) => `${f.topic}-${f.partition}-${f.nextOffset}`).join(',');
    return this.store.insert(
      'projection_frontiers',
      frontierColumns,
      frontiers.map((f) => ({ family, version, ...f })),
      `frontier-${family}-${version}-${key}`,
    );
  }

  async frontiers(family: string, version: number): Promise<Frontier[]> {
    const rows = await this.store.query<{ topic: string; partition: number; next: string }>(
      `SELECT topic, partition, max(next_offset) AS next
       FROM ${this.store.table('projection_frontiers')}
       WHERE family = {family:String} AND version = {version:UInt32}
       GROUP BY topic, partition ORDER BY topic, partition`,
      { family, version },
    );
    return rows.map((r) => ({
      topic: r.topic,
      partition: Number(r.partition),
      nextOffset: String(r.next),
    }));
  }

  /** A dropped version's frontier and write-ahead ranges go with its tables. */
  async forget(family: string, version: number, writeAheadGroup: string): Promise<void> {
    await this.store.command(
      `DELETE FROM ${this.store.table('projection_frontiers')}
       WHERE family = '${family}' AND version = ${Number(version)}`,
    );
    await this.store.command(
      `DELETE FROM ${this.store.table('sink_batches')} WHERE consumer_group = '${writeAheadGroup}'`,
    );
  }
}
