import type { TelemetrySample } from '@sentio/events';
import { stableEventId } from '../event-id.util.js';
import { sampleProblem } from '../sample-checks.util.js';
import type { MqttRule } from './mqtt.config.js';
import {
  jsonValue,
  parseBoolean,
  parseJsonPath,
  parseNumber,
  parseTimestamp,
  readPath,
} from './payload-mapping.util.js';
import { compileTopicPattern, fillTemplate, type TopicPattern } from '../common/topic-pattern.util.js';

export interface CompiledRule {
  rule: MqttRule;
  pattern: TopicPattern;
  values: Array<{ path: Array<string | number>; where: string; metric: string; unit?: string | undefined }>;
  timestampPath: Array<string | number> | undefined;
}

export function compileRule(rule: MqttRule): CompiledRule {
  return {
    rule,
    pattern: compileTopicPattern(rule.topic),
    values: (rule.values ?? []).map((v) => ({ ...v, where: v.path, path: parseJsonPath(v.path) })),
    timestampPath: rule.timestamp && parseJsonPath(rule.timestamp.path),
  };
}

export interface MappingContext {
  source: string;
  labels: Record<string, string>;
  receivedAtMs: number;
}

/**
 * Turns one message into samples with the first rule whose topic matches. An Error says why the message
 * cannot be used; it goes to the dead-letter topic with that reason.
 */
export function mapMessage(
  rules: CompiledRule[],
  topic: string,
  payload: Buffer,
  context: MappingContext,
): TelemetrySample[] | Error {
  for (const compiled of rules) {
    const captures = compiled.pattern.match(topic);
    if (!captures) continue;
    const samples = mapWithRule(compiled, captures, topic, payload, context);
    if (samples instanceof Error) return samples;
    for (const sample of samples) {
      const problem = sampleProblem(sample, context.receivedAtMs);
      if (problem) return new Error(problem);
    }
    return samples;
  }
  return new Error(`no mapping rule matches topic ${topic}`);
}

function mapWithRule(
  { rule, values, timestampPath }: CompiledRule,
  captures: Record<string, string>,
  topic: string,
  payload: Buffer,
  context: MappingContext,
): TelemetrySample[] | Error {
  const deviceId = fillTemplate(rule.deviceId, captures);
  if (deviceId.trim() === '') return new Error(`deviceId is empty for topic ${topic}`);
  const labels = { ...context.labels };
  for (const [key, value] of Object.entries(rule.labels)) labels[key] = fillTemplate(value, captures);
  const text = payload.toString('utf8');
  const sample = (metric: string, value: number, unit: string | undefined, timestampMs: number) => ({
    eventId: stableEventId(context.source, deviceId, metric, timestampMs, value),
    deviceId,
    timestampMs,
    metric,
    value,
    unit: unit ?? null,
    quality: 'GOOD' as const,
    labels,
    source: context.source,
  });

  if (rule.format !== 'json') {
    const value = rule.format === 'number' ? parseNumber(text) : parseBoolean(text);
    if (value instanceof Error) return value;
    return [sample(fillTemplate(rule.metric, captures), value, rule.unit, context.receivedAtMs)];
  }

  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return new Error(`payload is not valid JSON: ${(error as Error).message}`);
  }
  let timestampMs = context.receivedAtMs;
  if (timestampPath && rule.timestamp) {
    const ts = parseTimestamp(readPath(document, timestampPath), rule.timestamp.format, rule.timestamp.path);
    if (ts instanceof Error) return ts;
    timestampMs = ts;
  }
  const samples: TelemetrySample[] = [];
  for (const v of values) {
    const raw = readPath(document, v.path);
    // A device that reports some values per message leaves the others out; only a wrong type is an error.
    if (raw === undefined || raw === null) continue;
    const value = jsonValue(raw, v.where);
    if (value instanceof Error) return value;
    samples.push(sample(fillTemplate(v.metric, captures), value, v.unit, timestampMs));
  }
  if (samples.length === 0) {
    return new Error(`none of ${values.map((v) => v.where).join(', ')} is in the payload`);
  }
  return samples;
}
