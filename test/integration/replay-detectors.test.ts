import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseStore } from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
import {
  detectorsConfigSection,
  RelatedDeviceStream,
  initTfBackend,
  ModelStore,
  trainDeviceModel,
  WindowAssembler,
  type StreamRow,
} from '@sentio/detectors';
import type { TelemetrySample } from '@sentio/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger, openStore, produceTelemetry, sandbox, type Sandbox } from './support/backbone.js';
import { sentio, type CliResult } from './support/replay-cli.js';

const DEVICES = ['pump-a', 'pump-b'];
const SECONDS = 1_200;
const FAULT = { device: 'pump-a', fromS: 600, toS: 700 };
const T0 = Math.floor((Date.now() - 3 * 3_600_000) / 60_000) * 60_000;

/** A seeded, smooth signal per device and metric; pump-a's temperature jumps by 15 during the fault. */
function samples(fromS: number, toS: number, withFault: boolean): TelemetrySample[] {
  let seed = 7;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2;
  const out: TelemetrySample[] = [];
  for (let s = fromS; s < toS; s++) {
    for (const [d, deviceId] of DEVICES.entries()) {
      const fault = withFault && deviceId === FAULT.device && s >= FAULT.fromS && s < FAULT.toS ? 15 : 0;
      const values = {
        temperature: 50 + d + Math.sin(s / 30) * 2 + noise() + fault,
        pressure: 5 + Math.cos(s / 40) * 0.5 + noise(),
      };
      for (const [metric, value] of Object.entries(values)) {
        out.push({
          eventId: `${deviceId}-${metric}-${s}`,
          deviceId,
          timestampMs: T0 + s * 1000,
          metric,
          value,
          unit: null,
          quality: 'GOOD',
          labels: {},
          source: 'test',
        });
      }
    }
  }
  return out;
}

describe('replay detectors: re-score history with a stored model version and compare versions', () => {
  let box: Sandbox;
  let store: ClickHouseStore;
  let rescore: CliResult;
  let compare: CliResult;
  let versions: string[];

  beforeAll(async () => {
    box = await sandbox('replay_detectors');
    const modelDir = mkdtempSync(join(tmpdir(), 'sentio-replay-models-'));
    const env = {
      ...box.env,
      DETECTORS_METRICS: 'temperature,pressure',
      DETECTORS_MODEL_DIR: modelDir,
    };
    const config = loadConfig([detectorsConfigSection], { env: { ...process.env, ...env } }).detectors;
    // Each device's model, trained the way the detector does, on a fault-free stretch before the history.
    await initTfBackend(logger);
    versions = [];
    for (const deviceId of DEVICES) {
      const assembler = new WindowAssembler(config);
      const stream = new RelatedDeviceStream(config);
      const rows: StreamRow[] = [];
      for (const s of samples(-900, 0, false).filter((x) => x.deviceId === deviceId))
        for (const w of assembler.add(s)) rows.push(...stream.push(w).added);
      const model = await trainDeviceModel(deviceId, rows, config);
      versions.push(await new ModelStore(modelDir).save(deviceId, model));
      model.dispose();
    }
    await produceTelemetry(box, samples(0, SECONDS, true));
    const range = ['--from', new Date(T0).toISOString(), '--to', new Date(T0 + SECONDS * 1000).toISOString()];
    rescore = await sentio(['replay', 'detectors', '--model', 'current', ...range], env);
    const labels = join(modelDir, 'faults.csv');
    writeFileSync(
      labels,
      `device,start,end\n${FAULT.device},${T0 + FAULT.fromS * 1000},${T0 + FAULT.toS * 1000}\n`,
    );
    compare = await sentio(['replay', 'compare', '--labels', labels, ...range], env);
    store = openStore(box);
  }, 300_000);

  afterAll(async () => {
    await store?.close();
  });

  it('scored both devices with their current model and wrote anomalies tagged with that version', async () => {
    expect(rescore.code, rescore.stdout.slice(-3000) + rescore.stderr.slice(-2000)).toBe(0);
    const id = /re-score ([0-9a-f]{8}) /.exec(rescore.stdout)?.[1];
    expect(id).toBeDefined();
    expect(rescore.stdout).toContain('on 2 devices');
    const rows = await store.query<{ version: string; device: string; n: string }>(
      `SELECT model_version AS version, toString(device_id) AS device, count() AS n
       FROM ${store.table('anomaly_rescores')} FINAL WHERE replay_id = {id:String}
       GROUP BY version, device ORDER BY device`,
      { id },
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(versions).toContain(r.version);
    const reported = Number(/(\d[\d,]*) anomalies written/.exec(rescore.stdout)![1]!.replace(/,/g, ''));
    expect(rows.reduce((n, r) => n + Number(r.n), 0)).toBe(reported);
  });

  it('recomputed forecasts the live way, tagged with the model version, beside the live ones', async () => {
    const id = /re-score ([0-9a-f]{8}) /.exec(rescore.stdout)![1]!;
    const reported = Number(/(\d[\d,]*) forecasts written/.exec(rescore.stdout)![1]!.replace(/,/g, ''));
    // One forecast per metric every 60 resampled rows once 10 buckets of 30 rows are there: 2 devices,
    // 2 metrics, 1,200 s at 1 s steps.
    expect(reported).toBeGreaterThan(0);
    const rows = await store.query<{ version: string; device: string; metric: string; n: string }>(
      `SELECT model_version AS version, toString(device_id) AS device, toString(metric) AS metric, count() AS n
       FROM ${store.table('forecast_rescores')} FINAL WHERE replay_id = {id:String}
       GROUP BY version, device, metric ORDER BY device, metric`,
      { id },
    );
    expect(rows.map((r) => [r.device, r.metric])).toEqual([
      ['pump-a', 'pressure'],
      ['pump-a', 'temperature'],
      ['pump-b', 'pressure'],
      ['pump-b', 'temperature'],
    ]);
    for (const r of rows) expect(versions).toContain(r.version);
    expect(rows.reduce((n, r) => n + Number(r.n), 0)).toBe(reported);
    const [points] = await store.query<{ p: string; model: string }>(
      `SELECT length(points) AS p, toString(model_id) AS model FROM ${store.table('forecast_rescores')}
       WHERE replay_id = {id:String} LIMIT 1`,
      { id },
    );
    expect(Number(points!.p)).toBe(20); // horizon 600 rows in buckets of 30
    expect(points!.model).toBe('holt-damped');
  });

  it('never wrote into the live anomalies or forecasts', async () => {
    const [live] = await store.query<{ n: string }>(`SELECT count() AS n FROM ${store.table('anomalies')}`);
    expect(Number(live!.n)).toBe(0);
    const [forecasts] = await store.query<{ n: string }>(
      `SELECT count() AS n FROM ${store.table('forecasts')}`,
    );
    expect(Number(forecasts!.n)).toBe(0);
  });

  it('compare prints the re-scored version with precision and recall against the labelled fault', () => {
    expect(compare.code, compare.stderr.slice(-2000)).toBe(0);
    const line = compare.stdout.split('\n').find((l) => l.startsWith('replay:'));
    expect(line).toBeDefined();
    const [, , anomalies, precision, recall] = line!.split(/\s{2,}/);
    expect(Number(anomalies!.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(Number(recall)).toBe(1);
    expect(Number(precision)).toBeGreaterThan(0.5);
    expect(compare.stdout).toMatch(/^source\s+model version\s+anomalies\s+precision\s+recall/m);
  });

  it('compare reports the re-scored forecasts per model version too', () => {
    expect(compare.stdout).toMatch(/^source\s+model version\s+forecasts\s+at risk/m);
    const forecastsTable = compare.stdout.slice(
      compare.stdout.search(/^source\s+model version\s+forecasts/m),
    );
    const lines = forecastsTable
      .split('\n')
      .filter((l) => l.startsWith('replay:'))
      .map((l) => l.split(/\s{2,}/));
    // One line per device's model version (each device has its own).
    expect(lines.map((l) => l[1]).sort()).toEqual([...versions].sort());
    const reported = Number(/(\d[\d,]*) forecasts written/.exec(rescore.stdout)![1]!.replace(/,/g, ''));
    expect(lines.reduce((n, l) => n + Number(l[2]!.replace(/,/g, '')), 0)).toBe(reported);
  });
});
