import type { FlaggedWindow } from '@sentio/clickhouse';
import { describe, expect, it } from 'vitest';
import { compareVersions, parseFaultIntervals } from './version-compare.util.js';

const w = (source: string, version: string, device: string, start: number, end: number): FlaggedWindow => ({
  source,
  model_version: version,
  device_id: device,
  start_ms: String(start),
  end_ms: String(end),
});

describe('compareVersions', () => {
  const labels = parseFaultIntervals('device,start,end\npump-1,100,200\npump-2,1000,1100\n');

  it('counts per source and version, with precision and recall against the labelled faults', () => {
    const flagged = [
      w('live', 'v1', 'pump-1', 90, 110), // overlaps pump-1's fault
      w('live', 'v1', 'pump-1', 300, 310), // false alarm
      w('replay:ab', 'v2', 'pump-1', 150, 160),
      w('replay:ab', 'v2', 'pump-2', 1050, 1060),
      w('replay:ab', 'v2', 'pump-2', 90, 110), // right time, wrong device
    ];
    expect(compareVersions(flagged, labels)).toEqual([
      { source: 'live', modelVersion: 'v1', anomalies: 2, precision: 0.5, recall: 0.5 },
      { source: 'replay:ab', modelVersion: 'v2', anomalies: 3, precision: 2 / 3, recall: 1 },
    ]);
  });

  it('without labels it only counts', () => {
    expect(compareVersions([w('live', 'v1', 'a', 0, 1)])).toEqual([
      { source: 'live', modelVersion: 'v1', anomalies: 1 },
    ]);
  });

  it('refuses a malformed label line, naming it', () => {
    expect(() => parseFaultIntervals('pump-1,200,100')).toThrow('labels line 1');
    expect(parseFaultIntervals('pump-1,2026-11-30T00:00:00Z,2026-11-30T01:00:00Z')).toEqual([
      {
        deviceId: 'pump-1',
        startMs: Date.parse('2026-11-30T00:00:00Z'),
        endMs: Date.parse('2026-11-30T01:00:00Z'),
      },
    ]);
  });
});
