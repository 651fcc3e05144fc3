import { randomBytes } from 'node:crypto';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type StreamName } from '@sentio/events';
import type { EventTopics } from '@sentio/kafka';
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

/**
 * Reads the inputs a rule needs from Kafka (within retention): the device inventory, then every input
 * stream from the offsets at `from - warm-up` to the end, keeping only events the rule would look at.
 */
export async function readRuleInputsFromKafka(
  kafka: Kafka,
  serde: AvroSerde,
  topics: EventTopics,
  rule: AlertRule,
  from: number,
  to: number,
  progress?: (read: number, total: number) => void,
): Promise<{ inputs: EngineInput[]; devices: EngineInput[] }> {
  const admin = kafka.admin();
  await admin.connect();
  const plan: Array<{ topic: string; stream: StreamName; partition: number; start: bigint; end: bigint }> =
    [];
  try {
    for (const stream of [...STREAMS, 'lifecycle' as const]) {
      const topic = topics[stream];
      const ends = await admin.fetchTopicOffsets(topic);
      const starts =
        stream === 'lifecycle'
          ? ends.map((e) => ({ partition: e.partition, offset: e.low }))
          : await admin.fetchTopicOffsetsByTimestamp(topic, from - warmUpMs(rule));
      for (const e of ends) {
        const s = starts.find((x) => x.partition === e.partition);
        const start = BigInt(s && Number(s.offset) >= 0 ? s.offset : e.high);
        if (start < BigInt(e.high))
          plan.push({ topic, stream, partition: e.partition, start, end: BigInt(e.high) });
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
  const raw: EngineInput[] = [];
  if (plan.length === 0) return { inputs: [], devices };
  const consumer = kafka.consumer({
    groupId: `sentio-backtest-${randomBytes(6).toString('hex')}`,
    maxWaitTimeInMs: 100,
  });
  const remaining = new Map(plan.map((p) => [`${p.topic}:${p.partition}`, p.end]));
  let read = 0;
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
        if (input.type === 'device') devices.push(input);
        else if (conditionAccepts(rule.condition, input) && input.ts <= to) raw.push(input);
      }
      read += batch.messages.length;
      progress?.(read, total);
    },
  });
  for (const p of plan) consumer.seek({ topic: p.topic, partition: p.partition, offset: p.start.toString() });
  await done;
  await consumer.disconnect();
  // Selectors by type, site or labels need the inventory: filter once it is complete.
  const info = new Map<string, { deviceType: string | null; labels: Record<string, string> }>();
  for (const d of devices)
    if (d.type === 'device') info.set(d.deviceId, { deviceType: d.deviceType, labels: d.labels });
  for (const i of raw)
    if (i.type === 'sample' && i.labels && !info.has(i.deviceId))
      info.set(i.deviceId, {
        deviceType: i.labels['deviceType'] ?? i.labels['device_type'] ?? null,
        labels: i.labels,
      });
  const inputs = raw.filter((i) => selectorMatches(rule.selector, i.deviceId, info.get(i.deviceId)));
  return { inputs, devices };
}
