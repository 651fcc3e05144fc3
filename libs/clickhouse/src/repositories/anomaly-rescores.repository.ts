import type { Anomaly } from '@sentio/events';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { columnMap } from '../column-map.util.js';

export interface RescoredAnomaly extends Anomaly {
  replayId: string;
}

const rescoreColumns = columnMap<RescoredAnomaly>({
  replay_id: (a) => a.replayId,
  ts: (a) => a.timestampMs,
  device_id: (a) => a.deviceId,
  window_start: (a) => a.windowStartMs,
  window_end: (a) => a.windowEndMs,
  score: (a) => a.score,
  threshold: (a) => a.threshold,
  contributions: (a) => a.contributions.map((c) => ({ metric: c.metric, error: c.error })),
  model_id: (a) => a.modelId,
  model_version: (a) => a.modelVersion,
  event_id: (a) => a.eventId,
});

/** One flagged window of a model version: live (`replay` empty) or from a re-score. */
export interface FlaggedWindow {
  source: string;
  model_version: string;
  device_id: string;
  start_ms: string;
  end_ms: string;
}

export interface VersionRange {
  fromMs: number;
  toMs: number;
  devices?: readonly string[];
}

/** Re-scored anomalies (`sentio replay detectors`), and the windows each model version flagged, for comparing. */
export class AnomalyRescoresRepository {
  constructor(private readonly store: ClickHouseStore) {}

  insert(rows: readonly RescoredAnomaly[], token: string): Promise<void> {
    return this.store.insert('anomaly_rescores', rescoreColumns, rows, token);
  }

  /**
   * Every window flagged in the range, live ones (source `live`) and re-scored ones (source `replay:<id>`),
   * by model version. Read FINAL: a re-score repeated after a crash, or a replayed live anomaly, counts once.
   */
  flagged(range: VersionRange): Promise<FlaggedWindow[]> {
    const devices =
      range.devices && range.devices.length > 0 ? 'AND device_id IN {devices:Array(String)}' : '';
    const where = `ts >= fromUnixTimestamp64Milli({fromMs:Int64}) AND ts < fromUnixTimestamp64Milli({toMs:Int64}) ${devices}`;
    return this.store.query<FlaggedWindow>(
      `SELECT 'live' AS source, model_version, toString(device_id) AS device_id,
              toUnixTimestamp64Milli(window_start) AS start_ms, toUnixTimestamp64Milli(window_end) AS end_ms
       FROM ${this.store.table('anomalies')} FINAL WHERE ${where}
       UNION ALL
       SELECT concat('replay:', replay_id) AS source, model_version, toString(device_id) AS device_id,
              toUnixTimestamp64Milli(window_start) AS start_ms, toUnixTimestamp64Milli(window_end) AS end_ms
       FROM ${this.store.table('anomaly_rescores')} FINAL WHERE ${where}`,
      { fromMs: range.fromMs, toMs: range.toMs, devices: range.devices ?? [] },
    );
  }
}
