import { z } from 'zod';
import { durationField } from './duration.util.js';

export const SEVERITIES = ['info', 'warning', 'minor', 'major', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

const labelMap = z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_.]*$/, 'expected a label name'), z.string());

/** Which devices a rule watches: listed ids, or every device matching type, site and labels (all given must match). */
const selector = z
  .object({
    devices: z.array(z.string().min(1)).min(1).optional(),
    deviceType: z.string().min(1).optional(),
    site: z.string().min(1).optional(),
    labels: labelMap.optional(),
  })
  .strict();

const comparison = z.enum(['>', '>=', '<', '<=']);

const thresholdCondition = z
  .object({
    kind: z.literal('threshold'),
    metric: z.string().min(1),
    aggregation: z.enum(['avg', 'min', 'max', 'last', 'rate']).default('avg'),
    window: durationField().default(60_000),
    op: comparison.default('>'),
    threshold: z.number(),
    /** Hysteresis: once active, the alert clears only when the value is back past this one. */
    clearThreshold: z.number().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.clearThreshold === undefined) return;
    const above = c.op === '>' || c.op === '>=';
    if (above ? c.clearThreshold > c.threshold : c.clearThreshold < c.threshold)
      ctx.addIssue({
        code: 'custom',
        path: ['clearThreshold'],
        message: `must be on the clear side of threshold (${above ? '<=' : '>='} ${c.threshold} for op ${c.op})`,
      });
  });

const noDataCondition = z
  .object({
    kind: z.literal('nodata'),
    /** The metric that must keep arriving; any metric of the device when absent. */
    metric: z.string().min(1).optional(),
    silentFor: durationField(),
    /** Values of BAD quality count as an alerting condition too. */
    badQuality: z.boolean().default(true),
  })
  .strict();

const anomalyCondition = z
  .object({
    kind: z.literal('anomaly'),
    /** Score over this; the detector's own threshold when absent. */
    minScore: z.number().positive().optional(),
    /** Flagged windows needed within `within`. */
    windows: z.number().int().positive().default(3),
    within: durationField().default(60_000),
  })
  .strict();

const forecastCondition = z
  .object({
    kind: z.literal('forecast'),
    metric: z.string().min(1).optional(),
    minRisk: z.enum(['LOW', 'MEDIUM', 'HIGH']).optional(),
    timeToFailureUnder: durationField().optional(),
  })
  .strict()
  .refine((c) => c.minRisk !== undefined || c.timeToFailureUnder !== undefined, {
    message: 'needs minRisk or timeToFailureUnder',
    path: ['minRisk'],
  });

const logCondition = z
  .object({
    kind: z.literal('log'),
    /** A regular expression matched against the log body. */
    pattern: z
      .string()
      .min(1)
      .refine(
        (p) => {
          try {
            new RegExp(p);
            return true;
          } catch {
            return false;
          }
        },
        { message: 'expected a valid regular expression' },
      ),
    minSeverity: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']).default('TRACE'),
    window: durationField().default(300_000),
    count: z.number().int().positive().default(1),
  })
  .strict();

const simpleCondition = z.discriminatedUnion('kind', [
  thresholdCondition,
  noDataCondition,
  anomalyCondition,
  forecastCondition,
  logCondition,
]);

const compositeCondition = z
  .object({
    kind: z.literal('composite'),
    op: z.enum(['and', 'or']),
    conditions: z.array(simpleCondition).min(2),
  })
  .strict();

/** One discriminated union, so a problem inside a condition is reported at its own field. */
export const conditionSchema = z.discriminatedUnion('kind', [
  thresholdCondition,
  noDataCondition,
  anomalyCondition,
  forecastCondition,
  logCondition,
  compositeCondition,
]);

export const alertRuleSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'expected lowercase letters, digits, . _ - (at most 128)'),
    name: z.string().min(1).max(200),
    condition: conditionSchema,
    selector: selector.default({}),
    severity: z.enum(SEVERITIES).default('warning'),
    /** The condition must hold this long (pending) before the alert fires. */
    for: durationField().default(0),
    /** A firing alert stays firing this long after the condition stops holding. */
    keepFiringFor: durationField().default(0),
    /** After an alert resolves, the same rule and device may not fire again for this long. */
    cooldown: durationField().default(0),
    flapping: z
      .object({
        window: durationField().default(600_000),
        maxTransitions: z.number().int().min(2).default(6),
      })
      .strict()
      .default({ window: 600_000, maxTransitions: 6 }),
    paused: z.boolean().default(false),
    labels: labelMap.default({}),
    /** Templated with {{device}}, {{metric}}, {{value}}, {{threshold}}, {{timeToFailure}}, {{labels.x}}. */
    annotations: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export type AlertRuleInput = z.input<typeof alertRuleSchema>;
export type AlertRule = z.output<typeof alertRuleSchema>;
export type Condition = z.output<typeof conditionSchema>;
export type SimpleCondition = z.output<typeof simpleCondition>;
export type ThresholdCondition = z.output<typeof thresholdCondition>;
export type NoDataCondition = z.output<typeof noDataCondition>;
export type AnomalyCondition = z.output<typeof anomalyCondition>;
export type ForecastCondition = z.output<typeof forecastCondition>;
export type LogCondition = z.output<typeof logCondition>;
export type RuleSelector = z.output<typeof selector>;

export class RuleValidationError extends Error {
  constructor(
    readonly problems: Array<{ field: string; message: string }>,
    source?: string,
  ) {
    super(
      `invalid alert rule${source ? ` in ${source}` : ''}: ` +
        problems.map((p) => `${p.field}: ${p.message}`).join('; '),
    );
    this.name = 'RuleValidationError';
  }
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) =>
      typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part),
    '',
  );
}

/** Validates one rule; a bad rule is refused with every problem named by its field (e.g. `condition.threshold`). */
export function parseRule(input: unknown, source?: string): AlertRule {
  const result = alertRuleSchema.safeParse(input);
  if (result.success) return result.data;
  throw new RuleValidationError(
    result.error.issues.map((issue) => {
      const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const base = fieldPath(issue.path);
      return unknownKeys.length > 0
        ? {
            field: unknownKeys.map((k) => (base ? `${base}.${k}` : k)).join(', '),
            message: 'unknown field',
          }
        : { field: base || '(rule)', message: issue.message };
    }),
    source,
  );
}
