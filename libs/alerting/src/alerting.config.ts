import { configFields, defineConfigSection } from '@sentio/config';
import { z } from 'zod';
import { durationField } from './rules/duration.util.js';

const route: z.ZodType<RouteInput> = z.lazy(() =>
  z
    .object({
      receiver: z.string().min(1).optional(),
      matchers: z.array(z.string()).optional(),
      groupBy: z.array(z.string()).optional(),
      groupWait: durationField().optional(),
      groupInterval: durationField().optional(),
      repeatInterval: durationField().optional(),
      continue: z.boolean().optional(),
      routes: z.array(route).optional(),
    })
    .strict(),
) as never;

interface RouteInput {
  receiver?: string | undefined;
  matchers?: string[] | undefined;
  groupBy?: string[] | undefined;
  groupWait?: number | undefined;
  groupInterval?: number | undefined;
  repeatInterval?: number | undefined;
  continue?: boolean | undefined;
  routes?: RouteInput[] | undefined;
}

/** A receiver: a name and lists of integrations by type (validated against each type's own schema at start). */
const receiver = z.object({ name: z.string().min(1) }).catchall(z.array(z.record(z.string(), z.unknown())));

export const alertingConfigSection = defineConfigSection(
  'alerting',
  z.object({
    /** Consumer group of the evaluator (inputs); `<groupId>-p<N>` is input partition N's transactional id. */
    groupId: z.string().min(1).default('sentio-alerting'),
    /** YAML rule files (a file or a folder), provisioned into the rules topic at start. */
    rulesPath: z.string().optional(),
    /** Data later than this behind the newest event time of its partition is dropped (counted). */
    allowedLatenessMs: configFields.nonNegativeInt().default(5000),
    /** A partition with no input for this long has its event time moved on by processing time (no-data rules). */
    idleAdvanceMs: configFields.positiveInt().default(2000),
    /** Transitions, state and offsets are committed in one Kafka transaction at most this often. */
    commitIntervalMs: configFields.positiveInt().default(500),
    /** Link back to Sentio in notifications. */
    externalUrl: z.string().default('http://127.0.0.1:8080'),
    sendResolvedWhenSilenced: configFields.flag().default(true),
    /** Resolved alerts are forgotten by the dispatcher this long after they end. */
    resolvedRetentionMs: configFields.positiveInt().default(3_600_000),
    receivers: z.array(receiver).default([]),
    route: route.optional(),
    inhibitRules: z
      .array(
        z
          .object({
            sourceMatchers: z.array(z.string()).min(1),
            targetMatchers: z.array(z.string()).min(1),
            equal: z.array(z.string()).default([]),
          })
          .strict(),
      )
      .default([]),
  }),
  {
    groupId: 'ALERTING_GROUP_ID',
    rulesPath: 'ALERTING_RULES_PATH',
    allowedLatenessMs: 'ALERTING_ALLOWED_LATENESS_MS',
    idleAdvanceMs: 'ALERTING_IDLE_ADVANCE_MS',
    commitIntervalMs: 'ALERTING_COMMIT_INTERVAL_MS',
    externalUrl: 'SENTIO_EXTERNAL_URL',
    sendResolvedWhenSilenced: 'ALERTING_SEND_RESOLVED_WHEN_SILENCED',
    resolvedRetentionMs: 'ALERTING_RESOLVED_RETENTION_MS',
  },
);

export type AlertingConfig = z.infer<typeof alertingConfigSection.schema>;
