import { z } from 'zod';
import { mqttConnectionFields } from './mqtt-connection.config.js';
import { parseJsonPath } from './payload-mapping.util.js';
import { compileTopicPattern, templateNames } from '../common/topic-pattern.util.js';

const jsonPath = z.string().superRefine((path, ctx) => {
  try {
    parseJsonPath(path);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

const ruleSchema = z
  .strictObject({
    /** Levels are literal, `+`, a trailing `#`, or hold `{name}` captures usable in the templates below. */
    topic: z.string().min(1),
    format: z.enum(['number', 'boolean', 'json']).default('number'),
    deviceId: z.string().min(1).default('{device}'),
    /** number and boolean payloads: the metric name (a template). */
    metric: z.string().min(1).default('{metric}'),
    unit: z.string().min(1).optional(),
    /** json payloads: which values to take, each becoming one sample. */
    values: z
      .array(
        z.strictObject({ path: jsonPath, metric: z.string().min(1), unit: z.string().min(1).optional() }),
      )
      .min(1)
      .optional(),
    /** json payloads: the device's own timestamp; the receive time otherwise. */
    timestamp: z
      .strictObject({ path: jsonPath, format: z.enum(['ms', 's', 'iso']).default('ms') })
      .optional(),
    labels: z.record(z.string(), z.string()).default({}),
  })
  .superRefine((rule, ctx) => {
    let captures: string[];
    try {
      captures = compileTopicPattern(rule.topic).captures;
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['topic'], message: (error as Error).message });
      return;
    }
    const check = (template: string, path: Array<string | number>) => {
      for (const name of templateNames(template)) {
        if (!captures.includes(name)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `expected only captures of topic "${rule.topic}" (${captures.map((c) => `{${c}}`).join(', ') || 'none'}), not {${name}}`,
          });
        }
      }
    };
    check(rule.deviceId, ['deviceId']);
    for (const [key, value] of Object.entries(rule.labels)) check(value, ['labels', key]);
    if (rule.format === 'json') {
      if (!rule.values)
        ctx.addIssue({ code: 'custom', path: ['values'], message: 'expected values for a json rule' });
      rule.values?.forEach((v, i) => check(v.metric, ['values', i, 'metric']));
    } else {
      check(rule.metric, ['metric']);
      if (rule.values)
        ctx.addIssue({ code: 'custom', path: ['values'], message: 'expected values only with format json' });
      if (rule.timestamp)
        ctx.addIssue({
          code: 'custom',
          path: ['timestamp'],
          message: 'expected timestamp only with format json',
        });
    }
  });

export const mqttConfigSchema = z.strictObject({
  name: z.string(),
  type: z.literal('mqtt'),
  ...mqttConnectionFields,
  /** Tried in order; the first whose topic matches maps the message. */
  rules: z.array(ruleSchema).min(1),
});

export type MqttConfig = z.infer<typeof mqttConfigSchema>;
export type MqttRule = MqttConfig['rules'][number];
