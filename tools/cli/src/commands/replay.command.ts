import 'reflect-metadata';
import { parseArgs } from 'node:util';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { readFile } from 'node:fs/promises';
import { isProjectionFamily, PROJECTION_FAMILIES, type ProjectionFamily } from '@sentio/clickhouse';
import { createLogger, NestJsonLogger } from '@sentio/observability';
import { loadSentioConfig, platformModule, type SentioConfig } from '@sentio/platform';
import {
  DetectorRescoreService,
  parseFaultIntervals,
  ProjectionVersionsService,
  ReplayService,
  type ComparisonReport,
  type RescoreResult,
  type ReplayPlan,
  type ReplayProgress,
  type VersionStatus,
} from '@sentio/replay';
import type { Command } from './command.type.js';

const usage = `projection <family> [--from <time>] [--to <time>] [--devices a,b] [--dry-run] [--no-swap] [--detach]
                                                  a full rebuild swaps in once caught up; a partial one (--from,
                                                  --to, --devices) is built for inspection and never swapped
       sentio replay rollback <family>            swap the previous version back in (again: roll forward)
       sentio replay drop <family> <version>      drop a version that is not live
       sentio replay list | versions              replays with progress; versions with rows, live and previous marked
       sentio replay pause|resume|cancel <id>
       sentio replay detectors --model <version> --from <time> --to <time> [--devices a,b]
                                                  re-score history with a stored model version, beside the live anomalies
       sentio replay compare [--labels <csv>] [--from <time>] [--to <time>] [--devices a,b]
                                                  anomalies per model version (live and re-scored); precision and
                                                  recall against labelled fault intervals (CSV: device,start,end)
  families: ${Object.keys(PROJECTION_FAMILIES).join(', ')}; <time>: ISO-8601 or epoch ms.
  With --api <url> (or SENTIO_API_URL) it asks a running platform (admin token in SENTIO_API_TOKEN, or
  SENTIO_API_KEY); without, it runs here against the configured ClickHouse (embedded: only while no other
  process holds its folder).`;

const options = {
  from: { type: 'string' },
  to: { type: 'string' },
  devices: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  'no-swap': { type: 'boolean', default: false },
  swap: { type: 'boolean', default: false },
  detach: { type: 'boolean', default: false },
  api: { type: 'string' },
  model: { type: 'string' },
  labels: { type: 'string' },
} as const;

export const replayCommand: Command = {
  name: 'replay',
  summary: 'Rebuild a projection family from Kafka into a new version, swap it in, roll back, drop.',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
    const [sub, ...args] = positionals;
    if (sub === 'detectors' || sub === 'compare') return detectors(sub, values);
    const apiUrl = values.api ?? process.env['SENTIO_API_URL'];
    const backend: Backend = apiUrl ? new ApiBackend(apiUrl) : await LocalBackend.open();
    try {
      switch (sub) {
        case 'projection': {
          const request = {
            family: family(args[0]),
            fromMs: values.from ? instant(values.from) : undefined,
            toMs: values.to ? instant(values.to) : undefined,
            devices: values.devices ? values.devices.split(',').filter((d) => d.length > 0) : undefined,
            // Unset: a full rebuild swaps, a partial one does not (and refuses --swap).
            swap: values['no-swap'] ? false : values.swap ? true : undefined,
          };
          if (values['dry-run']) {
            process.stdout.write(renderPlan(await backend.plan(request)));
            return 0;
          }
          return await follow(backend, await backend.start(request), values.detach);
        }
        case 'rollback':
          return await follow(backend, await backend.rollback(family(args[0])), values.detach);
        case 'drop': {
          const version = Number(args[1]);
          if (!Number.isInteger(version) || version < 1) throw new Error('expected: drop <family> <version>');
          await backend.drop(family(args[0]), version);
          process.stdout.write(`dropped version ${version} of ${args[0]}\n`);
          return 0;
        }
        case 'list':
          process.stdout.write(renderRuns(await backend.list()));
          return 0;
        case 'versions':
          process.stdout.write(renderVersions(await backend.versions()));
          return 0;
        case 'pause':
        case 'cancel':
          process.stdout.write(line(await backend.control(sub, required(args[0], 'replay id'))));
          return 0;
        case 'resume':
          return await follow(
            backend,
            await backend.control('resume', required(args[0], 'replay id')),
            values.detach,
          );
        default:
          throw new Error(
            `expected a subcommand: projection, rollback, drop, list, versions, pause, resume, cancel`,
          );
      }
    } finally {
      await backend.close();
    }
  },
};

interface StartRequest {
  family: ProjectionFamily;
  fromMs?: number;
  toMs?: number;
  devices?: string[];
  swap?: boolean;
}

interface Backend {
  plan(request: StartRequest): Promise<ReplayPlan>;
  start(request: StartRequest): Promise<ReplayProgress>;
  rollback(family: ProjectionFamily): Promise<ReplayProgress>;
  drop(family: ProjectionFamily, version: number): Promise<void>;
  list(): Promise<ReplayProgress[]>;
  versions(): Promise<VersionStatus[]>;
  control(action: 'pause' | 'resume' | 'cancel', id: string): Promise<ReplayProgress>;
  /** The run's progress now; undefined once it is no longer running. */
  poll(id: string): Promise<ReplayProgress | undefined>;
  close(): Promise<void>;
  /** The replay runs in this process: the command must stay until it ends. */
  readonly local: boolean;
}

/** The replay module in this process, on the configured Kafka and ClickHouse. */
class LocalBackend implements Backend {
  readonly local = true;
  private constructor(
    private readonly app: INestApplicationContext,
    private readonly replay: ReplayService,
    private readonly versionsService: ProjectionVersionsService,
  ) {}

  static async open(): Promise<LocalBackend> {
    const logger = createLogger('sentio-replay');
    const config = loadSentioConfig();
    const app = await NestFactory.createApplicationContext(platformModule(config, ['replay'], logger), {
      logger: new NestJsonLogger(logger.child({ component: 'nest' })),
    });
    const backend = new LocalBackend(
      app,
      app.get(ReplayService, { strict: false }),
      app.get(ProjectionVersionsService, { strict: false }),
    );
    // Ctrl-C pauses at a checkpoint (the replay module's shutdown hook): `resume` continues from there.
    const stop = () => void app.close().then(() => process.exit(130));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return backend;
  }

  plan = (r: StartRequest) => this.replay.plan(r);
  start = (r: StartRequest) => this.replay.startProjection(r);
  rollback = (f: ProjectionFamily) => this.replay.rollback(f);
  drop = (f: ProjectionFamily, v: number) => this.versionsService.drop(f, v);
  list = () => this.replay.list();
  versions = () => this.versionsService.status();
  control = (action: 'pause' | 'resume' | 'cancel', id: string) => this.replay[action](id);
  poll = async (id: string) => {
    const p = this.replay.get(id);
    return p && p.state === 'running' ? p : undefined;
  };
  final = (id: string) => this.replay.wait(id);
  close = () => this.app.close();
}

/** A running platform's admin API. */
class ApiBackend implements Backend {
  readonly local = false;
  constructor(private readonly base: string) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const token = process.env['SENTIO_API_TOKEN'];
    const key = process.env['SENTIO_API_KEY'];
    if (token) headers['authorization'] = `Bearer ${token}`;
    else if (key) headers['x-api-key'] = key;
    const res = await fetch(`${this.base.replace(/\/$/, '')}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private body(r: StartRequest) {
    return { family: r.family, from: r.fromMs, to: r.toMs, devices: r.devices, swap: r.swap };
  }

  plan = (r: StartRequest) =>
    this.call<ReplayPlan>('POST', '/api/replays', { ...this.body(r), dryRun: true });
  start = (r: StartRequest) => this.call<ReplayProgress>('POST', '/api/replays', this.body(r));
  rollback = (f: ProjectionFamily) => this.call<ReplayProgress>('POST', `/api/replays/rollback/${f}`);
  drop = async (f: ProjectionFamily, v: number) => {
    await this.call('DELETE', `/api/replays/versions/${f}/${v}`);
  };
  list = () => this.call<ReplayProgress[]>('GET', '/api/replays');
  versions = () => this.call<VersionStatus[]>('GET', '/api/replays/versions');
  control = (action: 'pause' | 'resume' | 'cancel', id: string) =>
    this.call<ReplayProgress>('POST', `/api/replays/${encodeURIComponent(id)}/${action}`);
  poll = async (id: string) => {
    const p = (await this.list()).find((r) => r.id === id);
    return p && p.state === 'running' ? p : undefined;
  };
  close = async () => undefined;
}

/** Prints progress every 2 s until the run ends (a local run must end before the process can). */
async function follow(backend: Backend, started: ReplayProgress, detach: boolean): Promise<number> {
  process.stdout.write(line(started));
  if (detach && !backend.local) return 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    const p = await backend.poll(started.id);
    if (!p) break;
    process.stdout.write(line(p));
  }
  const final =
    backend instanceof LocalBackend
      ? await backend.final(started.id)
      : (await backend.list()).find((r) => r.id === started.id);
  if (final) process.stdout.write(line(final));
  return final?.state === 'done' ? 0 : 1;
}

const n = (v: number) => v.toLocaleString('en-US');

function line(p: ReplayProgress): string {
  const eta = p.etaSeconds === null ? '-' : `${p.etaSeconds} s`;
  return (
    `replay ${p.id} ${p.kind} ${p.family} v${p.version} ${p.state}: ${n(p.records)} records, ` +
    `${n(p.ratePerSecond)}/s, lag ${n(p.lag)}, ETA ${eta}${p.swapped ? ', swapped in' : ''}` +
    `${p.error ? `, error: ${p.error}` : ''}\n`
  );
}

function renderPlan(plan: ReplayPlan): string {
  const rows = plan.partitions.map(
    (p) =>
      `  ${String(p.partition).padStart(9)}  ${p.start.padStart(12)}  ${p.end.padStart(12)}  ${n(p.records).padStart(12)}`,
  );
  return [
    `dry run: ${plan.family} into ${plan.newVersion ? 'new ' : ''}version ${plan.version} from ${plan.topic}` +
      (plan.resumesFrontier ? ' (continues from its frontier)' : ''),
    `  partition         start           end       records`,
    ...rows,
    `total ${n(plan.records)} records; estimated ${plan.estimatedSeconds} s at ${n(plan.ratePerSecond)} records/s`,
    '',
  ].join('\n');
}

function renderRuns(runs: ReplayProgress[]): string {
  if (runs.length === 0) return 'no replays\n';
  return runs.map(line).join('');
}

function renderVersions(versions: VersionStatus[]): string {
  return (
    versions
      .map(
        (v) =>
          `${v.live ? '*' : v.previous ? 'p' : ' '} ${v.family} v${v.version}${v.dropped ? ' (dropped)' : ''}: ` +
          `${v.description}; ${Object.entries(v.rows)
            .map(([t, rows]) => `${t} ${n(rows)}`)
            .join(', ')}`,
      )
      .join('\n') + '\n'
  );
}

function family(name: string | undefined): ProjectionFamily {
  if (!name || !isProjectionFamily(name))
    throw new Error(`expected a family: ${Object.keys(PROJECTION_FAMILIES).join(', ')}`);
  return name;
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new Error(`expected a ${what}`);
  return value;
}

/** An ISO-8601 instant or epoch milliseconds. */
function instant(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new Error(`expected an ISO-8601 instant or epoch ms, got ${text}`);
  return ms;
}

/**
 * Re-scoring and comparing run in the process that holds ClickHouse: a running platform's admin API with
 * --api (or SENTIO_API_URL), else here against the configured Kafka, ClickHouse and model folder.
 */
async function detectors(
  sub: 'detectors' | 'compare',
  values: { from?: string; to?: string; devices?: string; model?: string; labels?: string; api?: string },
): Promise<number> {
  const toMs = values.to ? instant(values.to) : Date.now();
  const fromMs = values.from ? instant(values.from) : toMs - 7 * 24 * 3_600_000;
  if (fromMs >= toMs) throw new Error('--from must be before --to');
  const devices = values.devices ? values.devices.split(',').filter((d) => d.length > 0) : undefined;
  const labelsCsv = values.labels ? await readFile(values.labels, 'utf8') : undefined;
  const labels = labelsCsv === undefined ? undefined : parseFaultIntervals(labelsCsv);
  if (sub === 'detectors' && !values.model) throw new Error('--model <version> is required');
  const apiUrl = values.api ?? process.env['SENTIO_API_URL'];
  if (apiUrl) {
    const api = new ApiBackend(apiUrl);
    if (sub === 'detectors') {
      const result = await api.call<RescoreResult>('POST', '/api/replays/detectors', {
        model: values.model,
        from: fromMs,
        to: toMs,
        devices,
      });
      process.stdout.write(renderRescore(result));
    } else {
      const report = await api.call<ComparisonReport>('POST', '/api/replays/compare', {
        from: fromMs,
        to: toMs,
        devices,
        labels: labelsCsv,
      });
      process.stdout.write(renderComparison(report, labels !== undefined));
    }
    return 0;
  }
  const logger = createLogger('sentio-replay');
  const config: SentioConfig = loadSentioConfig();
  const app = await NestFactory.createApplicationContext(platformModule(config, ['replay'], logger), {
    logger: new NestJsonLogger(logger.child({ component: 'nest' })),
  });
  try {
    const service = app.get(DetectorRescoreService, { strict: false });
    if (sub === 'detectors') {
      const result = await service.rescore({ modelVersion: values.model!, fromMs, toMs, devices });
      process.stdout.write(renderRescore(result));
      return 0;
    }
    process.stdout.write(
      renderComparison(await service.compare({ fromMs, toMs, devices }, labels), labels !== undefined),
    );
    return 0;
  } finally {
    await app.close();
  }
}

function renderRescore(r: RescoreResult): string {
  return (
    `re-score ${r.id} with model ${r.modelVersion}: ${n(r.records)} records, ${n(r.windows)} windows scored on ` +
    `${r.devicesScored.length} devices, ${n(r.anomalies)} anomalies written to anomaly_rescores and ` +
    `${n(r.forecasts)} forecasts written to forecast_rescores (replay:${r.id}) ` +
    `in ${r.seconds} s` +
    (r.devicesWithoutModel.length > 0
      ? `; no model ${r.modelVersion} for ${r.devicesWithoutModel.join(', ')}`
      : '') +
    '\n'
  );
}

function renderComparison(report: ComparisonReport, withLabels: boolean): string {
  return [
    table(
      ['source', 'model version', 'anomalies', ...(withLabels ? ['precision', 'recall'] : [])],
      report.anomalies.map((r) => [
        r.source,
        r.modelVersion,
        n(r.anomalies),
        ...(withLabels ? [r.precision!.toFixed(3), r.recall!.toFixed(3)] : []),
      ]),
      'no anomalies in the range',
    ),
    table(
      ['source', 'model version', 'forecasts', 'at risk'],
      report.forecasts.map((r) => [r.source, r.modelVersion, n(r.forecasts), n(r.atRisk)]),
      'no forecasts in the range',
    ),
  ].join('\n');
}

function table(header: string[], cells: string[][], empty: string): string {
  if (cells.length === 0) return `${empty}\n`;
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line), ''].join('\n');
}
