import { randomBytes } from 'node:crypto';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type StreamName } from '@sentio/events';
import type { EventTopics } from '@sentio/kafka';
import type {
  AlertAnomalyRow,
  AlertDeviceRow,
  AlertForecastRow,
  AlertInputRange,
  AlertLogRow,
  AlertSampleRow,
} from '@sentio/clickhouse';
import type { Kafka } from 'kafkajs';
import type { AlertRule } from '../rules/alert-rule.schema.js';
import { AlertEngine, RuleSet, selectorMatches, type AlertTransition } from '../evaluation/alert-engine.js';
import { conditionAccepts } from '../evaluation/condition-evaluator.js';
import type { EngineInput } from '../evaluation/engine-input.type.js';
import {
  anomalyInput,
  deviceInput,
  forecastInput,
  logInput,
  sampleInput,
} from '../evaluation/engine-input.util.js';

export interface BacktestResult {
  rule: string;
  from: number;
  to: number;
  inputs: number;
  transitions: AlertTransition[];
}

/**
 * Runs one rule over recorded inputs with the live evaluator (the same AlertEngine): inputs in event-time
 * order, timers advanced after every input and to `to` at the end. Nothing is sent (Grafana's "send is
 * optional"): the result is the timeline of what would have fired and resolved.
 */
export function backtest(
  rule: AlertRule,
  inputs: EngineInput[],
  from: number,
  to: number,
  devices: EngineInput[] = [],
): BacktestResult {
  const ruleSet = new RuleSet();
  ruleSet.set({ ...rule, paused: false });
  const engine = new AlertEngine(ruleSet, { allowedLatenessMs: Number.MAX_SAFE_INTEGER });
  for (const d of devices) engine.process(d);
  const sorted = [...inputs].sort((a, b) => a.ts - b.ts);
  const transitions: AlertTransition[] = [];
  for (const input of sorted) {
    if (input.ts > to) break;
    transitions.push(...engine.process(input), ...engine.advance(input.ts));
  }
  transitions.push(...engine.advance(to));
  return {
    rule: rule.id,
    from,
    to,
    inputs: sorted.length,
    transitions: transitions.filter((t) => t.ts >= from),
  };
}

const STREAMS: StreamName[] = ['telemetry', 'anomalies', 'forecasts', 'logs'];

/** Longest look-back a rule's condition needs before `from` (its window, `for`, silence), so state is warm at `from`. */
export function warmUpMs(rule: AlertRule): number {
  const c = rule.condition;
  const of = (x: typeof c): number =>
    x.kind === 'threshold'
      ? x.window
      : x.kind === 'nodata'
        ? x.silentFor
        : x.kind === 'anomaly'
          ? x.within
          : x.kind === 'log'
            ? x.window
            : x.kind === 'composite'
              ? Math.max(...x.conditions.map(of))
              : 0;
  return of(c) + rule.for;
}

/** Where the ClickHouse projections answer for the part of a stream Kafka no longer retains. */
export interface ClickHouseInputs {
  samples(r: AlertInputRange & { metrics?: readonly string[] | undefined }): Promise<AlertSampleRow[]>;
  anomalies(r: AlertInputRange): Promise<AlertAnomalyRow[]>;
  forecasts(r: AlertInputRange): Promise<AlertForecastRow[]>;
  logs(r: AlertInputRange): Promise<AlertLogRow[]>;
  devices(): Promise<AlertDeviceRow[]>;
}

export interface RuleInputs {
  inputs: EngineInput[];
  devices: EngineInput[];
  /** Records read from Kafka, and per stream the event-time range read from ClickHouse instead. */
  sources: {
    kafkaRecords: number;
    clickhouse: Array<{ stream: StreamName; from: number; to: number; rows: number }>;
  };
}

export interface ReadRuleInputsOptions {
  progress?: ((read: number, total: number) => void) | undefined;
  /** Opened only when the range starts before what Kafka retains; without it such a range is refused. */
  clickhouse?: (() => Promise<ClickHouseInputs>) | undefined;
}

/** The input streams a condition reads. */
function streamsOf(c: AlertRule['condition']): Set<StreamName> {
  const out = new Set<StreamName>();
  const visit = (x: AlertRule['condition']): void => {
    if (x.kind === 'threshold' || x.kind === 'nodata') out.add('telemetry');
    else if (x.kind === 'anomaly') out.add('anomalies');
    else if (x.kind === 'forecast') out.add('forecasts');
    else if (x.kind === 'log') out.add('logs');
    else x.conditions.forEach(visit);
  };
  visit(c);
  return out;
}

async function readFromClickHouse(
  source: ClickHouseInputs,
  stream: StreamName,
  rule: AlertRule,
  range: AlertInputRange,
): Promise<EngineInput[]> {
  const c = rule.condition;
  switch (stream) {
    case 'telemetry': {
      // Only the metrics the rule looks at (a no-data rule without a metric watches every metric).
      const metrics = new Set<string>();
      let any = false;
      const visit = (x: AlertRule['condition']): void => {
        if (x.kind === 'threshold') metrics.add(x.metric);
        else if (x.kind === 'nodata') {
          if (x.metric) metrics.add(x.metric);
          else any = true;
        } else if (x.kind === 'composite') x.conditions.forEach(visit);
      };
      visit(c);
      return (await source.samples({ ...range, metrics: any ? undefined : [...metrics] })).map((r) => ({
        type: 'sample' as const,
        deviceId: r.device_id,
        ts: Number(r.ts_ms),
        metric: r.metric,
        value: r.value,
        quality: r.quality,
        labels: r.labels,
      }));
    }
    case 'anomalies':
      return (await source.anomalies(range)).map((r) => ({
        type: 'anomaly' as const,
        deviceId: r.device_id,
        ts: Number(r.ts_ms),
        score: r.score,
        threshold: r.threshold,
        ...(r.top_metric ? { topMetric: r.top_metric } : {}),
      }));
    case 'forecasts':
      return (await source.forecasts(range)).map((r) => ({
        type: 'forecast' as const,
        deviceId: r.device_id,
        ts: Number(r.ts_ms),
        metric: r.metric,
        risk: r.risk,
        timeToFailureMs: r.time_to_failure_ms === null ? null : Number(r.time_to_failure_ms),
      }));
    case 'logs':
      return (await source.logs(range)).map((r) => ({
        type: 'log' as const,
        deviceId: r.device_id,
        ts: Number(r.ts_ms),
        severity: r.severity,
        body: r.body,
      }));
    default:
      return [];
  }
}

const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : 'never');

/**
 * Reads the inputs a rule needs from `from` minus its warm-up to `to`: from Kafka within its retention
 * (the device inventory, then every input stream from the offsets at the range's start to the end), and
 * from the ClickHouse projections for whatever part of the range Kafka no longer holds. Per stream, the
 * cut is the event time of the first record still retained (the latest over its truncated partitions):
 * older inputs come from ClickHouse, newer ones from Kafka, so none is read twice or missed.
 */
export async function readRuleInputs(
  kafka: Kafka,
  serde: AvroSerde,
  topics: EventTopics,
  rule: AlertRule,
  from: number,
  to: number,
  options: ReadRuleInputsOptions = {},
): Promise<RuleInputs> {
  const start = from - warmUpMs(rule);
  const admin = kafka.admin();
  await admin.connect();
  const plan: Array<{
    topic: string;
    stream: StreamName;
    partition: number;
    start: bigint;
    end: bigint;
    truncated: boolean;
  }> = [];
  /** Streams with a partition whose retained records all went: nothing there says where the cut is. */
  const emptied = new Set<StreamName>();
  try {
    for (const stream of [...STREAMS, 'lifecycle' as const]) {
      const topic = topics[stream];
      const ends = await admin.fetchTopicOffsets(topic);
      const starts =
        stream === 'lifecycle'
          ? ends.map((e) => ({ partition: e.partition, offset: e.low }))
          : await admin.fetchTopicOffsetsByTimestamp(topic, start);
      for (const e of ends) {
        const s = starts.find((x) => x.partition === e.partition);
        const first = BigInt(s && Number(s.offset) >= 0 ? s.offset : e.high);
        // Records were deleted (retention, deleteRecords) and the range reaches back to the first kept one.
        const truncated = stream !== 'lifecycle' && BigInt(e.low) > 0n && first <= BigInt(e.low);
        if (truncated && BigInt(e.low) >= BigInt(e.high)) emptied.add(stream);
        if (first < BigInt(e.high))
          plan.push({ topic, stream, partition: e.partition, start: first, end: BigInt(e.high), truncated });
      }
    }
  } finally {
    await admin.disconnect();
  }
  const total = plan.reduce((n, p) => n + Number(p.end - p.start), 0);
  const codecs = Object.fromEntries(
    await Promise.all(
      [...STREAMS, 'lifecycle' as const].map(async (s) => [
        topics[s],
        { stream: s, codec: await EventCodec.register(serde, eventStreams[s] as never, topics[s]) },
      ]),
    ),
  ) as Record<string, { stream: StreamName; codec: EventCodec<never> }>;
  const devices: EngineInput[] = [];
  const raw: Array<{ stream: StreamName; input: EngineInput }> = [];
  /** Event time of the first record read from each truncated partition. */
  const firstKept = new Map<string, { stream: StreamName; ts: number }>();
  const truncated = new Set(plan.filter((p) => p.truncated).map((p) => `${p.topic}:${p.partition}`));
  let read = 0;
  if (plan.length > 0) {
    const consumer = kafka.consumer({
      groupId: `sentio-backtest-${randomBytes(6).toString('hex')}`,
      maxWaitTimeInMs: 100,
    });
    const remaining = new Map(plan.map((p) => [`${p.topic}:${p.partition}`, p.end]));
    await consumer.connect();
    await consumer.subscribe({ topics: [...new Set(plan.map((p) => p.topic))], fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const key = `${payload.topic}:${payload.partition}`;
        const end = remaining.get(key);
        if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) remaining.delete(key);
        if (remaining.size === 0) resolve();
      });
    });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const { stream, codec } = codecs[batch.topic]!;
        const key = `${batch.topic}:${batch.partition}`;
        await codec.prepare(batch.messages.map((m) => m.value));
        for (const m of batch.messages) {
          const d = codec.decode(m.value);
          if (!d.ok) continue;
          const value = d.value as never;
          const input =
            stream === 'telemetry'
              ? sampleInput(value)
              : stream === 'anomalies'
                ? anomalyInput(value)
                : stream === 'forecasts'
                  ? forecastInput(value)
                  : stream === 'logs'
                    ? logInput(value)
                    : deviceInput(value);
          if (truncated.has(key) && !firstKept.has(key)) firstKept.set(key, { stream, ts: input.ts });
          if (input.type === 'device') devices.push(input);
          else if (conditionAccepts(rule.condition, input) && input.ts <= to) raw.push({ stream, input });
        }
        read += batch.messages.length;
        options.progress?.(read, total);
      },
    });
    for (const p of plan)
      consumer.seek({ topic: p.topic, partition: p.partition, offset: p.start.toString() });
    await done;
    await consumer.disconnect();
  }

  // Per stream, where Kafka's part begins (event time); before it, ClickHouse answers.
  const cut = new Map<StreamName, number>();
  for (const { stream, ts } of firstKept.values())
    cut.set(stream, Math.max(cut.get(stream) ?? -Infinity, ts));
  for (const stream of emptied) cut.set(stream, Infinity);
  const needed = streamsOf(rule.condition);
  const fromClickHouse: RuleInputs['sources']['clickhouse'] = [];
  const older: EngineInput[] = [];
  let source: ClickHouseInputs | undefined;
  for (const [stream, at] of cut) {
    if (!needed.has(stream) || !(at > start)) continue;
    if (!options.clickhouse)
      throw new Error(
        `backtest: ${topics[stream]} keeps records from ${iso(at)} on, the range starts at ${iso(start)}: ` +
          'the older part is read from ClickHouse, which is not available here',
      );
    source ??= await options.clickhouse();
    const range: AlertInputRange = {
      fromMs: start,
      toMs: Math.min(at, to + 1),
      devices: rule.selector.devices,
    };
    const rows = (await readFromClickHouse(source, stream, rule, range)).filter((i) =>
      conditionAccepts(rule.condition, i),
    );
    older.push(...rows);
    fromClickHouse.push({ stream, from: range.fromMs, to: range.toMs, rows: rows.length });
    read += rows.length;
    options.progress?.(read, total + rows.length);
  }
  if (source) {
    // The inventory as the projections hold it, under what the lifecycle topic says.
    const inventory = await source.devices();
    devices.unshift(
      ...inventory.map((d) => ({
        type: 'device' as const,
        deviceId: d.device_id,
        ts: Number(d.updated_ms),
        deviceType: d.device_type || null,
        labels: d.labels,
        removed: d.removed,
      })),
    );
  }
  const newer = raw
    .filter(({ stream, input }) => input.ts >= (cut.get(stream) ?? -Infinity))
    .map((r) => r.input);
  // Selectors by type, site or labels need the inventory: filter once it is complete.
  const info = new Map<string, { deviceType: string | null; labels: Record<string, string> }>();
  for (const d of devices)
    if (d.type === 'device') info.set(d.deviceId, { deviceType: d.deviceType, labels: d.labels });
  const all = [...older, ...newer];
  for (const i of all)
    if (i.type === 'sample' && i.labels && !info.has(i.deviceId))
      info.set(i.deviceId, {
        deviceType: i.labels['deviceType'] ?? i.labels['device_type'] ?? null,
        labels: i.labels,
      });
  const inputs = all.filter((i) => selectorMatches(rule.selector, i.deviceId, info.get(i.deviceId)));
  return { inputs, devices, sources: { kafkaRecords: read - older.length, clickhouse: fromClickHouse } };
}
