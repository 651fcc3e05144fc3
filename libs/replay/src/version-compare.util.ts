import type { FlaggedWindow } from '@sentio/clickhouse';

/** A labelled fault: the device misbehaved in [startMs, endMs). */
export interface FaultInterval {
  deviceId: string;
  startMs: number;
  endMs: number;
}

export interface VersionComparison {
  /** `live`, or `replay:<id>` for a re-score. */
  source: string;
  modelVersion: string;
  anomalies: number;
  /** With labels: flagged windows that overlap a fault of their device, over all flagged windows. */
  precision?: number;
  /** With labels: faults overlapped by at least one flagged window, over all faults. */
  recall?: number;
}

/** Parses a CSV of fault intervals: `device,start,end` (ISO-8601 or epoch ms), an optional header row. */
export function parseFaultIntervals(csv: string): FaultInterval[] {
  const intervals: FaultInterval[] = [];
  csv
    .split(/\r?\n/)
    .map((line) => line.trim())
    .forEach((line, i) => {
      if (line.length === 0 || line.startsWith('#')) return;
      const [deviceId, start, end] = line.split(',').map((c) => c.trim());
      const startMs = instant(start);
      const endMs = instant(end);
      if (i === 0 && (startMs === undefined || endMs === undefined)) return; // the header
      if (!deviceId || startMs === undefined || endMs === undefined || endMs <= startMs)
        throw new Error(`labels line ${i + 1}: expected device,start,end with start < end, got "${line}"`);
      intervals.push({ deviceId, startMs, endMs });
    });
  return intervals;
}

function instant(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Per source and model version: how many windows it flagged and, with labels, its precision and recall. */
export function compareVersions(
  flagged: readonly FlaggedWindow[],
  labels?: readonly FaultInterval[],
): VersionComparison[] {
  const groups = new Map<string, FlaggedWindow[]>();
  for (const w of flagged) {
    const key = `${w.source}\u0000${w.model_version}`;
    const list = groups.get(key) ?? [];
    list.push(w);
    groups.set(key, list);
  }
  const overlaps = (w: FlaggedWindow, f: FaultInterval) =>
    w.device_id === f.deviceId && Number(w.start_ms) < f.endMs && Number(w.end_ms) > f.startMs;
  return [...groups]
    .map(([key, windows]) => {
      const [source, modelVersion] = key.split('\u0000') as [string, string];
      const row: VersionComparison = { source, modelVersion, anomalies: windows.length };
      if (labels) {
        const hits = windows.filter((w) => labels.some((f) => overlaps(w, f))).length;
        const found = labels.filter((f) => windows.some((w) => overlaps(w, f))).length;
        row.precision = windows.length > 0 ? hits / windows.length : 0;
        row.recall = labels.length > 0 ? found / labels.length : 0;
      }
      return row;
    })
    .sort((a, b) => a.source.localeCompare(b.source) || a.modelVersion.localeCompare(b.modelVersion));
}
