/**
 * Disk per million telemetry events, for the sizing table in the README ("Running at scale"): applies the
 * migrations to an embedded ClickHouse (the same engine version as the server images) and inserts
 * simulator-shaped samples (devices x 10 metrics every --interval-s, a UUID event id, a smooth signal with noise,
 * three labels) in 100k-row blocks, then prints the compressed bytes per row of each table after merges and
 * what a million events cost at that interval (a 1-minute rollup row per 60 / interval samples, ...).
 * Fewer devices give each series a longer run, as in a real day, which the codecs compress better.
 *
 *   node --import @swc-node/register/esm-register deploy/sizing/disk-per-million.bench.ts [--events 2000000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClickHouseStore, migrate } from '@sentio/clickhouse';
import { createLogger } from '@sentio/observability';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '2000000' },
    devices: { type: 'string', default: '1000' },
    'interval-s': { type: 'string', default: '1' },
  },
});
const interval = Number(values['interval-s']);
const events = Number(values.events);
const devices = Number(values.devices);
const logger = createLogger('disk-per-million', 'warn');
const path = mkdtempSync(join(tmpdir(), 'sentio-sizing-'));
const store = ClickHouseStore.open({ path, database: 'sizing', username: 'default', password: '' }, logger);
try {
  await migrate(store, logger);
  const block = 100_000;
  const started = performance.now();
  for (let first = 0; first < events; first += block) {
    const n = Math.min(block, events - first);
    // Row i: device i % devices, metric (i / devices) % 10, second i / (devices * 10): every series at 1 Hz.
    await store.command(
      `INSERT INTO sizing.metrics (device_id, metric, ts, value, unit, quality, labels, source, event_id)
       SETTINGS insert_deduplication_token = 'sizing-${first}'
       SELECT concat('pump-', leftPad(toString(i % ${devices}), 5, '0')) AS device_id,
              concat('metric_', toString(intDiv(i, ${devices}) % 10)) AS metric,
              toDateTime64('2026-11-01 00:00:00', 3, 'UTC') + intDiv(i, ${devices * 10}) * ${interval} AS ts,
              round(50 + 20 * sin(intDiv(i, ${devices * 10}) / 300 + i % ${devices}) + randNormal(0, 0.5), 3),
              'unit', 'GOOD', map('site', 'plant-1', 'line', concat('line-', toString(i % 20)), 'type', 'pump'),
              'modbus', toString(generateUUIDv4(i))
       FROM (SELECT number + ${first} AS i FROM numbers(${n}))`,
    );
    process.stderr.write(`\rinserted ${first + n}/${events}`);
  }
  const seconds = (performance.now() - started) / 1000;
  await store.command('OPTIMIZE TABLE sizing.metrics FINAL');
  await store.command('OPTIMIZE TABLE sizing.metrics_1m FINAL');
  await store.command('OPTIMIZE TABLE sizing.metrics_1h FINAL');
  const rows = await store.query<{ table: string; rows: string; bytes: string }>(
    `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes FROM system.parts
     WHERE database = 'sizing' AND active AND table IN ('metrics', 'metrics_1m', 'metrics_1h')
     GROUP BY table ORDER BY table`,
  );
  process.stderr.write('\n');
  const samplesPerRow: Record<string, number> = {
    metrics: 1,
    metrics_1m: Math.max(1, 60 / interval),
    metrics_1h: Math.max(1, 3600 / interval),
  };
  console.log(
    `${events} events (${devices} devices x 10 metrics every ${interval} s, ${(events / devices / 10) * interval} s) inserted in ` +
      `${seconds.toFixed(1)} s (${Math.round(events / seconds)} rows/s)`,
  );
  let total = 0;
  for (const r of rows) {
    const perRow = Number(r.bytes) / Number(r.rows);
    const perMillion = (perRow * 1e6) / samplesPerRow[r.table]!;
    total += perMillion;
    console.log(
      `${r.table.padEnd(11)} ${String(r.rows).padStart(9)} rows  ${perRow.toFixed(1).padStart(6)} B/row  ` +
        `${(perMillion / 1e6).toFixed(2)} MB per million events`,
    );
  }
  console.log(`all three   ${(total / 1e6).toFixed(2)} MB per million events (one replica)`);
} finally {
  await store.close();
  rmSync(path, { recursive: true, force: true });
}
