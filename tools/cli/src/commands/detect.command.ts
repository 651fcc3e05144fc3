import { createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AvroSerde, avroConfigSection } from '@sentio/avro';
import { loadConfig } from '@sentio/config';
import {
  binaryMetrics,
  calibrateMargin,
  csvDeviceRows,
  defaultForecastEvaluationOptions,
  emptyForecastTally,
  evaluateForecastSeries,
  forecastMethods,
  summariseForecasts,
  detectorChoices,
  detectorsConfigSection,
  evaluateSeriesFiles,
  initTfBackend,
  listCsvFiles,
  ModelStore,
  readCsvSeries,
  replayDeviceRows,
  syntheticCorpus,
  trainDeviceModel,
  type BinaryMetrics,
  type DetectorChoice,
  type DetectorKind,
  type ForecastMethod,
  type RowResult,
  type SeriesEvaluationResult,
  type TrainSplit,
} from '@sentio/detectors';
import { createKafka, eventTopics, kafkaConfigSection } from '@sentio/kafka';
import { Plant } from '@sentio/simulator';
import { createLogger } from '@sentio/observability';
import type { Command } from './command.type.js';

/** Published SKAB leaderboard rows (upstream README, 2024-08) that this detector is compared with. */
const leaderboard = [
  { method: 'Conv-AE', f1: 0.78, far: 13.55, mar: 28.02, nab: undefined },
  { method: 'LSTM-AE', f1: 0.74, far: 29.96, mar: 25.92, nab: undefined },
  { method: 'MSCRED', f1: undefined, far: undefined, mar: undefined, nab: 32.42 },
] as const;

/** The repository root, from this file's place in it: defaults are relative to the checkout, not the machine. */
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
/** SKAB is expected beside the checkout (README: `../shared/data/skab`) unless $SKAB_DIR says otherwise. */
const defaultSkabDir = () => process.env['SKAB_DIR'] ?? resolve(repoRoot, '../shared/data/skab');
/** The false alarm rate on SKAB's anomaly-free recording that `detect skab` derives the margin for. */
const SKAB_TARGET_FAR = 0.1;

const options = {
  csv: { type: 'string', multiple: true },
  detector: { type: 'string', multiple: true },
  'timestamp-col': { type: 'string' },
  'no-timestamp': { type: 'boolean', default: false },
  'value-col': { type: 'string' },
  'label-col': { type: 'string', default: 'anomaly' },
  'changepoint-col': { type: 'string', default: 'changepoint' },
  'train-rows': { type: 'string' },
  'train-fraction': { type: 'string' },
  online: { type: 'boolean', default: false },
  sep: { type: 'string' },
  out: { type: 'string' },
  'per-file': { type: 'boolean' },
  margin: { type: 'string' },
  'smooth-rows': { type: 'string' },
  'alarm-probability': { type: 'string' },
  window: { type: 'string' },
  epochs: { type: 'string' },
  'threshold-quantile': { type: 'string' },
  'threshold-factor': { type: 'string' },
  'calibration-rows': { type: 'string' },
  seed: { type: 'string' },
  'nab-window-s': { type: 'string', default: '60' },
} as const;

export const detectCommand: Command = {
  name: 'detect',
  summary:
    'Evaluate the anomaly detectors on CSV time series (fit on the first rows, score every row in order).',
  usage:
    'evaluate [--csv] <file|folder>... [--detector auto|group|univariate|window-ae]... ' +
    '[--train-fraction 0.15 | --train-rows N] [--online] [--timestamp-col <name> | --no-timestamp] ' +
    '[--value-col a,b] [--label-col anomaly] [--changepoint-col changepoint] [--sep ;] [--out rows.csv] ' +
    '[--per-file] [--margin 2.25] [--smooth-rows 30] [--alarm-probability 1e-4] [--nab-window-s 60]\n' +
    '         window-ae only: [--window 10] [--epochs 40] [--threshold-quantile 0.99] [--threshold-factor 1.5] ' +
    '[--calibration-rows 0] [--seed 42]\n' +
    '         Many files and folders go in one call (one start-up). The report goes to stdout, JSON logs to\n' +
    '         stderr; --out writes every input row (training rows too) with score, calibrated score in [0, 1],\n' +
    "         threshold, prediction and each member's score. --online is Numenta's protocol: fit on the\n" +
    '         training share, then score row by row and keep learning.\n' +
    '       sentio detect skab [--csv <SKAB folder>] [same options]: the SKAB protocol beside the leaderboard\n' +
    '         (data: $SKAB_DIR or ../shared/data/skab beside the checkout; first 400 rows of each file train;\n' +
    "         the group model's margin is derived on the anomaly-free recording for <= 10 % false alarms)\n" +
    '       sentio detect forecast [--csv] <file|folder>... [--simulator [--devices 12] [--hours 8]] [--bucket-rows 30]\n' +
    '         [--horizon 20] [--season 1] [--history-points 30] [--value-col a,b] [--timestamp-col t | --no-timestamp]\n' +
    '         [--method sentio,holt-damped,ses] [--out points.csv]: MASE against seasonal naive per column and\n' +
    '         overall, 80/95 % interval coverage; sentio is the forecaster the service runs\n' +
    '       sentio detect synthesize --out <folder> [--count 20] [--seed 1]: labelled single-metric test series\n' +
    '       sentio detect models: the stored device models (detectors.modelDir), current version marked *\n' +
    '       sentio detect train --device <id> (--csv <file> | --from <time> [--to <time>]): train a device model\n' +
    '         from a CSV with one column per configured metric, or from a replay of the telemetry topic; the\n' +
    '         new version becomes current and running detectors swap it in (within modelCheckMs, or on SIGHUP)',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'models') return listModels();
    if (sub === 'train') return train(rest);
    if (sub === 'synthesize') return synthesize(rest);
    if (sub === 'forecast') return forecast(rest);
    if (sub !== 'evaluate' && sub !== 'skab')
      throw new Error('expected a subcommand: evaluate, skab, synthesize, forecast, models or train');
    const { values, positionals } = parseArgs({ args: rest, options, allowPositionals: true });
    const skab = sub === 'skab';
    const paths = [...(values.csv ?? []), ...positionals];
    if (paths.length === 0) {
      if (!skab)
        throw new Error('give one or more CSV files or folders (--csv <file|folder> or as arguments)');
      paths.push(defaultSkabDir());
    }
    let files: string[] = [];
    for (const p of paths) {
      try {
        files.push(...(await listCsvFiles(p)));
      } catch (error) {
        throw new Error(`cannot read ${p}: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
    }
    files = [...new Set(files)];
    // SKAB's protocol leaves out the anomaly-free recording: it has no labels to score. It calibrates instead.
    const normalFile = skab ? files.find((f) => f.includes('anomaly-free')) : undefined;
    if (skab) files = files.filter((f) => !f.includes('anomaly-free'));
    if (files.length === 0) throw new Error(`no .csv files under ${paths.join(', ')}`);
    if (values['train-rows'] && values['train-fraction'])
      throw new Error('give --train-rows or --train-fraction, not both');
    if (values['timestamp-col'] && values['no-timestamp'])
      throw new Error('give --timestamp-col or --no-timestamp, not both');
    const trainSplit: TrainSplit = values['train-rows']
      ? { rows: positiveInt(values['train-rows'], '--train-rows') }
      : values['train-fraction']
        ? { fraction: fraction(values['train-fraction'], '--train-fraction') }
        : skab
          ? { rows: 400 }
          : { fraction: 0.15 };
    const detectors = (values.detector ?? (skab ? ['group', 'window-ae'] : ['auto'])).flatMap((d) =>
      d.split(','),
    );
    for (const d of detectors)
      if (!detectorChoices.includes(d as DetectorChoice))
        throw new Error(`--detector expects one of ${detectorChoices.join(', ')}, got ${d}`);

    const logger = createLogger('detect');
    const csvOptions = {
      timestampColumn: values['no-timestamp'] ? null : values['timestamp-col'],
      labelColumn: values['label-col'],
      changepointColumn: values['changepoint-col'],
      valueColumns: values['value-col']?.split(',').map((c) => c.trim()),
      separator: values.sep,
    };
    let margin = values.margin ? positiveNumber(values.margin, '--margin') : undefined;
    const smoothRows = values['smooth-rows']
      ? positiveInt(values['smooth-rows'], '--smooth-rows')
      : undefined;
    const notes: string[] = [];
    if (skab && margin === undefined && normalFile && detectors.includes('group') && 'rows' in trainSplit) {
      const normal = await readCsvSeries(normalFile, csvOptions);
      const lengths = await Promise.all(
        files.map(async (f) => (await readCsvSeries(f, csvOptions)).rows.length),
      );
      const segmentRows = lengths.sort((a, b) => a - b)[Math.floor(lengths.length / 2)]!;
      const calibration = calibrateMargin(normal.features, normal.rows, {
        segmentRows,
        trainRows: trainSplit.rows,
        targetFalseAlarmRate: SKAB_TARGET_FAR,
        group: { ...(smoothRows && { smoothRows }) },
      });
      margin = calibration.margin;
      notes.push(
        `group margin ${margin} derived on ${displayPath(process.cwd(), normalFile)} (normal data, ` +
          `never scored): ${calibration.segments} pieces of ${segmentRows} rows, ${calibration.scoredRows} rows ` +
          `scored, false alarms ${(100 * calibration.curve.find((c) => c.margin === margin)!.falseAlarmRate).toFixed(2)} % ` +
          `(target <= ${100 * SKAB_TARGET_FAR} %)`,
      );
    }
    if (detectors.some((d) => d === 'window-ae')) await initTfBackend(logger);

    const out = values.out ? createWriteStream(values.out) : undefined;
    const memberColumns = ['correlation', 'level', 'spike', 'shift', 'spread', 'range'];
    out?.write(
      'file,detector,row,timestamp,phase,score,calibrated,threshold,predicted,changepoint_predicted,label,changepoint,' +
        memberColumns.join(',') +
        ',top_feature\n',
    );
    // File names in the report and the row output: relative to the one folder given, else as given.
    const single = paths.length === 1 && !(await stat(paths[0]!)).isFile();
    const root = single ? paths[0]! : process.cwd();
    const result = await evaluateSeriesFiles(
      files,
      {
        csv: csvOptions,
        train: trainSplit,
        online: values.online,
        detectors: detectors as DetectorChoice[],
        nabWindowMs: positiveNumber(values['nab-window-s'], '--nab-window-s') * 1000,
        group: {
          ...(margin !== undefined && { margin }),
          ...(smoothRows && { smoothRows }),
        },
        univariate: {
          ...(values['alarm-probability'] && {
            alarmProbability: fraction(values['alarm-probability'], '--alarm-probability'),
          }),
        },
        autoencoder: {
          ...(values.window && { windowLength: positiveInt(values.window, '--window') }),
          ...(values.epochs && { epochs: positiveInt(values.epochs, '--epochs') }),
          ...(values['threshold-quantile'] && {
            thresholdQuantile: fraction(values['threshold-quantile'], '--threshold-quantile'),
          }),
          ...(values['threshold-factor'] && {
            thresholdFactor: positiveNumber(values['threshold-factor'], '--threshold-factor'),
          }),
          ...(values['calibration-rows'] && {
            calibrationRows: nonNegativeInt(values['calibration-rows'], '--calibration-rows'),
          }),
          ...(values.seed && { seed: positiveInt(values.seed, '--seed') }),
        },
      },
      logger,
      async (rows) => {
        if (out && !out.write(rows.map((r) => csvLine(r, root, memberColumns)).join('')))
          await once(out, 'drain');
      },
    );
    if (out) {
      out.end();
      await once(out, 'finish');
    }
    process.stdout.write(
      report(result, {
        fileCount: files.length,
        skab,
        perFile: values['per-file'] ?? !skab,
        root,
        notes,
        protocol:
          ('rows' in trainSplit ? `first ${trainSplit.rows} rows` : `first ${100 * trainSplit.fraction} %`) +
          ` of each file fit${values.online ? ', then online row by row with continued learning' : ''}`,
      }),
    );
    return 0;
  },
};

/**
 * Forecast accuracy of the service's forecaster (`forecastMetric` on raw history, rolling origins) beside the
 * previous one (damped Holt) and SES, against the seasonal naive forecast, with interval coverage: on CSV
 * value columns and/or on the simulator's drifting metrics (fault-free devices over a working day, where
 * shifts, demand and sensor drift move every metric). `--out` writes every forecast point.
 */
async function forecast(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      csv: { type: 'string', multiple: true },
      simulator: { type: 'boolean', default: false },
      devices: { type: 'string', default: '12' },
      hours: { type: 'string', default: '8' },
      'bucket-rows': { type: 'string' },
      horizon: { type: 'string' },
      season: { type: 'string' },
      'history-points': { type: 'string' },
      'timestamp-col': { type: 'string' },
      'no-timestamp': { type: 'boolean', default: false },
      'value-col': { type: 'string' },
      method: { type: 'string' },
      sep: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const o = {
    ...defaultForecastEvaluationOptions,
    ...(values['bucket-rows'] && { bucketRows: positiveInt(values['bucket-rows'], '--bucket-rows') }),
    ...(values.horizon && { horizon: positiveInt(values.horizon, '--horizon') }),
    ...(values.season && { seasonPeriod: positiveInt(values.season, '--season') }),
    ...(values['history-points'] && {
      historyPoints: positiveInt(values['history-points'], '--history-points'),
    }),
  };
  if (o.historyPoints < 3) throw new Error('--history-points must be at least 3');
  if (values['timestamp-col'] && values['no-timestamp'])
    throw new Error('give --timestamp-col or --no-timestamp, not both');
  const methods = values.method ? values.method.split(',').map((m) => m.trim()) : [...forecastMethods];
  for (const m of methods)
    if (!forecastMethods.includes(m as ForecastMethod))
      throw new Error(`--method expects some of ${forecastMethods.join(', ')}, got ${m}`);
  const paths = [...(values.csv ?? []), ...positionals];
  if (paths.length === 0 && !values.simulator) throw new Error('give CSV files or folders, or --simulator');
  const minRows = (Math.max(o.minHistory, o.seasonPeriod, 3) + 1) * o.bucketRows;
  // Every method sees the same origins: one tally per method and group of series.
  const rows: string[][] = [];
  const notes: string[] = [];
  const groups: Array<{ name: string; series: Array<{ id: string; values: number[] }> }> = [];
  if (paths.length > 0) {
    const files: string[] = [];
    for (const p of paths) {
      try {
        files.push(...(await listCsvFiles(p)));
      } catch (error) {
        throw new Error(`cannot read ${p}: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
    }
    if (files.length === 0) throw new Error(`no .csv files under ${paths.join(', ')}`);
    const single = paths.length === 1 && !(await stat(paths[0]!)).isFile();
    const root = single ? paths[0]! : process.cwd();
    const perColumn = new Map<string, Array<{ id: string; values: number[] }>>();
    for (const file of files) {
      const series = await readCsvSeries(file, {
        timestampColumn: values['no-timestamp'] ? null : values['timestamp-col'],
        labelColumn: 'anomaly',
        changepointColumn: 'changepoint',
        valueColumns: values['value-col']?.split(',').map((c) => c.trim()),
        separator: values.sep,
      });
      const name = displayPath(root, file);
      if (series.rows.length < minRows) {
        notes.push(
          `skipped ${name}: ${series.rows.length} rows, fewer than the ${minRows} needed for one forecast ` +
            `(${o.minHistory} buckets of ${o.bucketRows} rows of history and one to forecast)`,
        );
        continue;
      }
      series.features.forEach((column, f) => {
        const values = series.rows.map((r) => r[f]!);
        if (values.some((v) => !Number.isFinite(v))) {
          notes.push(`skipped ${name} ${column}: empty or non-numeric values`);
          return;
        }
        if (!perColumn.has(column)) perColumn.set(column, []);
        perColumn.get(column)!.push({ id: `${name}:${column}`, values });
      });
    }
    if (perColumn.size === 0) throw new Error(`no series long enough to forecast: ${notes.join('; ')}`);
    groups.push({ name: `csv: ${paths.join(', ')}`, series: [...perColumn.values()].flat() });
    if (perColumn.size > 1)
      for (const [name, series] of perColumn) groups.push({ name: `  ${name}`, series });
  }
  if (values.simulator) {
    const devices = positiveInt(values.devices, '--devices');
    const hours = positiveNumber(values.hours, '--hours');
    // From 06:00 UTC through the day's shift changes: the drifting part of the day.
    const startMs = Date.UTC(2026, 0, 5, 6);
    const plant = new Plant({ devices, seed: 7, startMs });
    const byMetric = new Map<string, Map<string, number[]>>();
    for (let t = startMs; t < startMs + hours * 3_600_000; t += 1000)
      for (const s of plant.sample(t)) {
        if (s.value === null || s.value === undefined) continue;
        let devicesOf = byMetric.get(s.metric);
        if (!devicesOf) byMetric.set(s.metric, (devicesOf = new Map()));
        let list = devicesOf.get(s.deviceId);
        if (!list) devicesOf.set(s.deviceId, (list = []));
        list.push(s.value);
      }
    const sorted = [...byMetric.entries()].sort((a, b) => a[0].localeCompare(b[0]));
    const asSeries = (metric: string, d: Map<string, number[]>) =>
      [...d.entries()].map(([device, v]) => ({ id: `simulator:${device}:${metric}`, values: v }));
    groups.push({
      name: `simulator: ${devices} devices, ${hours} h at 1 Hz`,
      series: sorted.flatMap(([metric, d]) => asSeries(metric, d)),
    });
    for (const [metric, d] of sorted) groups.push({ name: `  ${metric}`, series: asSeries(metric, d) });
  }
  const out = values.out ? createWriteStream(values.out) : undefined;
  out?.write('series,method,origin,step,actual,forecast,naive,lower80,upper80,lower95,upper95\n');
  // Per-row output once per series: the top-level groups hold every series.
  const written = new Set<string>();
  for (const g of groups) {
    const cells = [g.name];
    for (const method of methods as ForecastMethod[]) {
      const tally = emptyForecastTally();
      for (const series of g.series) {
        const lines: string[] = [];
        const key = `${method}|${series.id}`;
        const write = out && !written.has(key);
        written.add(key);
        evaluateForecastSeries(
          series.values,
          { ...o, method },
          tally,
          write
            ? (r) =>
                lines.push(
                  [
                    JSON.stringify(series.id),
                    method,
                    r.origin,
                    r.step,
                    ...[r.actual, r.forecast, r.naive, r.lower80, r.upper80, r.lower95, r.upper95].map((v) =>
                      v.toPrecision(8),
                    ),
                  ].join(',') + '\n',
                )
            : undefined,
        );
        if (out && lines.length > 0 && !out.write(lines.join(''))) await once(out, 'drain');
      }
      const s = summariseForecasts(tally);
      if (method === methods[0]) cells.push(String(s.series), String(s.points));
      cells.push(
        s.mase.toFixed(3),
        s.meanMase.toFixed(3),
        `${(100 * s.coverage80).toFixed(1)} %`,
        `${(100 * s.coverage95).toFixed(1)} %`,
      );
      if (method === 'sentio') cells.push(`${(100 * s.trendShare).toFixed(0)} %`);
    }
    rows.push(cells);
  }
  if (out) {
    out.end();
    await once(out, 'finish');
  }
  const header = ['series', 'count', 'points'];
  for (const m of methods) {
    header.push(`${m} MASE`, 'mean', '80 % in', '95 % in');
    if (m === 'sentio') header.push('trend');
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(
    [
      `forecasts of ${o.bucketRows}-row means, ${o.horizon} points ahead from rolling origins (every ` +
        `${o.horizon} points, history ${o.historyPoints} points); MASE: MAE over that of the seasonal naive ` +
        `forecast (season ${o.seasonPeriod}) from the same origins, pooled over the group's points, and ` +
        `"mean": the mean of each series' own MASE; < 1 beats naive. "80 % in"/"95 % in": share of actual ` +
        `values inside the intervals. sentio is the service's forecaster; "trend": origins where it used one.`,
      ...notes,
      '',
      line(header),
      line(widths.map((w) => '-'.repeat(w))),
      ...rows.map(line),
      ...(values.out ? ['', `every forecast point written to ${values.out}`] : []),
      '',
    ].join('\n'),
  );
  return 0;
}

/** Writes the synthetic single-metric corpus (timestamp, value, anomaly) into a folder, one CSV per series. */
async function synthesize(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      count: { type: 'string', default: '20' },
      seed: { type: 'string', default: '1' },
    },
  });
  if (!values.out) throw new Error('--out <folder> is required');
  const corpus = syntheticCorpus(positiveInt(values.count, '--count'), positiveInt(values.seed, '--seed'));
  await mkdir(values.out, { recursive: true });
  for (const s of corpus) {
    const lines = ['timestamp,value,anomaly'];
    s.values.forEach((v, i) =>
      lines.push(`${new Date(s.timestampsMs[i]!).toISOString()},${v},${s.labels[i]}`),
    );
    await writeFile(join(values.out, `${s.name}.csv`), lines.join('\n') + '\n');
  }
  process.stdout.write(`${corpus.length} series written to ${values.out}\n`);
  return 0;
}

async function listModels(): Promise<number> {
  const config = loadConfig([detectorsConfigSection]).detectors;
  const models = await new ModelStore(config.modelDir).list();
  if (models.length === 0) {
    process.stdout.write(`no models under ${config.modelDir}\n`);
    return 0;
  }
  const rows = models.map(({ deviceId, metadata: m, current }) => [
    current ? '*' : ' ',
    deviceId,
    m.modelVersion,
    m.createdAt,
    `${new Date(m.trainingRange.fromMs).toISOString()} .. ${new Date(m.trainingRange.toMs).toISOString()}`,
    String(m.trainingRange.rows),
    m.threshold.value.toPrecision(4),
    m.metrics.finalLoss.toPrecision(4),
    m.dataHash.slice(0, 12),
  ]);
  const header = ['', 'device', 'version', 'created', 'training range', 'rows', 'threshold', 'loss', 'data'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write([line(header), ...rows.map(line), ''].join('\n'));
  return 0;
}

const trainOptions = {
  device: { type: 'string' },
  csv: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  'timestamp-col': { type: 'string' },
  sep: { type: 'string' },
} as const;

async function train(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: trainOptions });
  const deviceId = values.device;
  if (!deviceId) throw new Error('--device <id> is required');
  if (Boolean(values.csv) === Boolean(values.from))
    throw new Error('give either --csv <file> or --from <time>');
  const config = loadConfig([detectorsConfigSection, kafkaConfigSection, avroConfigSection]);
  const logger = createLogger('detect');
  await initTfBackend(logger);
  const rows = values.csv
    ? csvDeviceRows(
        await readCsvSeries(values.csv, {
          timestampColumn: values['timestamp-col'],
          labelColumn: 'anomaly',
          changepointColumn: 'changepoint',
          separator: values.sep,
        }),
        config.detectors,
      )
    : await replayDeviceRows({
        kafka: createKafka(config.kafka, logger, 'sentio-detect-train'),
        serde: AvroSerde.forUrl(config.avro.registryUrl),
        topic: eventTopics(config.kafka.namespace).telemetry,
        deviceId,
        fromMs: instant(values.from!),
        toMs: values.to ? instant(values.to) : Date.now(),
        config: config.detectors,
        logger,
      });
  logger.info({ deviceId, rows: rows.length }, 'training');
  const model = await trainDeviceModel(deviceId, rows, config.detectors);
  const version = await new ModelStore(config.detectors.modelDir).save(deviceId, model);
  model.dispose();
  process.stdout.write(
    `${deviceId}: model ${version} trained on ${rows.length} rows, threshold ` +
      `${model.metadata.threshold.value.toPrecision(4)}, now current in ${config.detectors.modelDir}\n`,
  );
  return 0;
}

/** An ISO-8601 instant or epoch milliseconds. */
function instant(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new Error(`expected an ISO-8601 instant or epoch ms, got ${text}`);
  return ms;
}

/** A file as shown to the user: relative to `root` when it lies below it, else as given. */
function displayPath(root: string, file: string): string {
  const rel = relative(root, file);
  return rel && !rel.startsWith('..') ? rel : file;
}

function csvLine(r: RowResult, root: string, memberColumns: readonly string[]): string {
  const file = displayPath(root, r.file);
  const num = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '' : v.toPrecision(6));
  return (
    [
      JSON.stringify(file),
      r.detector,
      r.row,
      r.timestampMs === undefined ? '' : new Date(r.timestampMs).toISOString(),
      r.phase,
      num(r.score),
      num(r.calibrated),
      num(r.threshold),
      r.predicted,
      r.changepointPredicted,
      r.label ?? '',
      r.changepoint ?? '',
      ...memberColumns.map((m) => num(r.members[m])),
      JSON.stringify(r.topFeature),
    ].join(',') + '\n'
  );
}

const detectorNames: Record<DetectorKind, string> = {
  group: 'sentio robust group (fusion)',
  univariate: 'sentio univariate (fusion)',
  'window-ae': 'sentio window-AE',
};

function report(
  result: SeriesEvaluationResult,
  o: { fileCount: number; skab: boolean; perFile: boolean; root: string; notes: string[]; protocol: string },
): string {
  const lines: string[] = [];
  const testRows = new Map<DetectorKind, number>();
  for (const f of result.files) testRows.set(f.detector, (testRows.get(f.detector) ?? 0) + f.testRows);
  const evaluated = new Set(result.files.map((f) => f.file)).size;
  lines.push(
    `files: ${evaluated}/${o.fileCount} evaluated (${o.protocol}), test rows: ` +
      `${Math.max(0, ...testRows.values())}` +
      (result.changepoints > 0 ? `, changepoints in test rows: ${result.changepoints}` : '') +
      `, ${result.seconds.toFixed(1)} s`,
    ...o.notes,
  );
  for (const s of result.skipped) lines.push(`skipped ${displayPath(o.root, s.file)}: ${s.reason}`);
  const fmt = (v: number | undefined, digits: number, suffix = '') =>
    v === undefined ? '-' : `${v.toFixed(digits)}${suffix}`;
  const table = (header: string[], rows: string[][]) => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd();
    lines.push('', line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line));
  };
  if (o.perFile) {
    table(
      ['file', 'detector', 'rows', 'train', 'threshold', 'flagged', 'flagged %', 'F1'],
      result.files.map((f) => {
        const b = f.confusion ? binaryMetrics(f.confusion) : undefined;
        return [
          displayPath(o.root, f.file),
          f.detector,
          String(f.rows),
          String(f.trainRows),
          f.threshold.toPrecision(4),
          String(f.flaggedRows),
          fmt((100 * f.flaggedRows) / Math.max(1, f.testRows), 2),
          fmt(b?.f1, 2),
        ];
      }),
    );
  }
  const anyLabels = result.detectors.some((d) => d.binary || d.nab);
  if (anyLabels) {
    const rows: string[][] = [];
    const metricRow = (
      name: string,
      b: BinaryMetrics | undefined,
      nab: Record<string, number> | undefined,
    ) => [
      name,
      fmt(b?.f1, 2),
      fmt(b?.far, 2, ' %'),
      fmt(b?.mar, 2, ' %'),
      fmt(nab?.['standard'], 2),
      fmt(nab?.['lowFp'], 2),
      fmt(nab?.['lowFn'], 2),
    ];
    for (const d of result.detectors) {
      rows.push(metricRow(detectorNames[d.detector], d.binary, d.nab));
      for (const [m, r] of Object.entries(d.members)) rows.push(metricRow(`  member: ${m}`, r.binary, r.nab));
    }
    for (const d of result.detectors)
      if (d.binary) {
        const b = d.binary;
        lines.push(`${detectorNames[d.detector]}: pooled TP ${b.tp}  FP ${b.fp}  TN ${b.tn}  FN ${b.fn}`);
      }
    if (o.skab)
      for (const l of leaderboard)
        rows.push([
          `${l.method} (published)`,
          fmt(l.f1, 2),
          fmt(l.far, 2, ' %'),
          fmt(l.mar, 2, ' %'),
          fmt(l.nab, 2),
          '-',
          '-',
        ]);
    table(['method', 'F1', 'FAR', 'MAR', 'NAB standard', 'NAB low FP', 'NAB low FN'], rows);
  } else {
    lines.push('', 'no label or changepoint columns: per-file flags above, no accuracy figures');
  }
  lines.push('');
  return lines.join('\n');
}

function positiveInt(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${flag} expects a positive whole number, got ${value}`);
  return n;
}

function nonNegativeInt(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} expects a whole number >= 0, got ${value}`);
  return n;
}

function positiveNumber(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} expects a positive number, got ${value}`);
  return n;
}

function fraction(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 1) throw new Error(`${flag} expects 0 < q < 1, got ${value}`);
  return n;
}
