import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  Optional,
} from '@nestjs/common';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { AlertInputsQueryRepository, ClickHouseStore } from '@sentio/clickhouse';
import { eventStreams, type AlertEvent, type AlertRuleRecord } from '@sentio/events';
import {
  EVENT_TOPICS,
  EventProducer,
  KAFKA,
  KAFKA_CONFIG,
  type EventTopics,
  type KafkaConfig,
} from '@sentio/kafka';
import { AuditService, type AuthenticatedUser } from '@sentio/query-api';
import type { Kafka } from 'kafkajs';
import { z } from 'zod';
import { alertingTopics } from '../alerting-topics.js';
import { backtest, readRuleInputs, type BacktestResult } from '../backtest/backtest.js';
import { validateSilence, type Silence } from '../dispatch/silences.js';
import { parseRule, RuleValidationError, type AlertRule } from '../rules/alert-rule.schema.js';
import { AlertRulesService } from '../rules/alert-rules.service.js';
import { parseDuration } from '../rules/duration.util.js';
import { AlertingViewService } from './alerting-view.service.js';

export interface RequestContext {
  user: AuthenticatedUser;
  ip: string;
}

const silenceInput = z
  .object({
    matchers: z.array(z.string()).min(1),
    startsAt: z.string().datetime({ offset: true }).optional(),
    endsAt: z.string().datetime({ offset: true }).optional(),
    duration: z.string().optional(),
    comment: z.string().min(1, 'a silence needs a comment saying why'),
    recurring: z
      .object({ weekdays: z.array(z.number().int()), start: z.string(), duration: z.string() })
      .strict()
      .optional(),
  })
  .strict();

const ackInput = z
  .object({ comment: z.string().min(1, 'say what is being done'), assignee: z.string().min(1).optional() })
  .strict();

function badRequest(error: unknown): never {
  if (error instanceof RuleValidationError)
    throw new BadRequestException({ statusCode: 400, message: error.message, problems: error.problems });
  if (error instanceof z.ZodError)
    throw new BadRequestException({
      statusCode: 400,
      message: error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
    });
  throw new BadRequestException((error as Error).message);
}

/** Rule, silence and acknowledgement changes: each is an event on its topic and a line in the audit trail. */
@Injectable()
export class AlertingApiService {
  private alertCodec: Promise<EventCodec<AlertEvent>> | undefined;

  constructor(
    @Inject(AlertRulesService) readonly rules: AlertRulesService,
    @Inject(AlertingViewService) readonly view: AlertingViewService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(EventProducer) private readonly producer: EventProducer,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(KAFKA_CONFIG) private readonly kafkaConfig: KafkaConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(AvroSerde) private readonly serde: AvroSerde,
    @Optional() @Inject(ClickHouseStore) private readonly store?: ClickHouseStore,
  ) {}

  async listRules(): Promise<AlertRuleRecord[]> {
    await this.rules.start();
    return this.rules.catalog.list().map((e) => e.record);
  }

  async getRule(id: string): Promise<AlertRuleRecord> {
    await this.rules.start();
    const entry = this.rules.catalog.get(id);
    if (!entry || entry.record.deleted) throw new NotFoundException(`no alert rule ${id}`);
    return entry.record;
  }

  /** Creates (`mode: create` refuses an existing id) or replaces a rule. */
  async putRule(
    body: unknown,
    ctx: RequestContext,
    mode: 'create' | 'replace',
    id?: string,
  ): Promise<AlertRuleRecord> {
    let rule: AlertRule;
    try {
      rule = parseRule(id && body && typeof body === 'object' && !('id' in body) ? { ...body, id } : body);
    } catch (error) {
      badRequest(error);
    }
    if (id !== undefined && rule.id !== id)
      throw new BadRequestException(`id: ${rule.id} does not match the path's ${id}`);
    await this.rules.start();
    const existing = this.rules.catalog.get(rule.id);
    if (mode === 'create' && existing && !existing.record.deleted)
      throw new ConflictException(`alert rule ${rule.id} exists`);
    const record = await this.rules.change(rule, ctx.user.username);
    await this.audit.record(
      ctx.user,
      mode === 'create' ? 'alerting.rule.create' : 'alerting.rule.update',
      rule.id,
      { revision: record.revision },
      ctx.ip,
    );
    return record;
  }

  async setPaused(id: string, paused: boolean, ctx: RequestContext): Promise<AlertRuleRecord> {
    const rule = await this.currentRule(id);
    const record = await this.rules.change({ ...rule, paused }, ctx.user.username);
    await this.audit.record(
      ctx.user,
      paused ? 'alerting.rule.pause' : 'alerting.rule.resume',
      id,
      { revision: record.revision },
      ctx.ip,
    );
    return record;
  }

  async deleteRule(id: string, ctx: RequestContext): Promise<AlertRuleRecord> {
    const rule = await this.currentRule(id);
    const record = await this.rules.change(rule, ctx.user.username, { deleted: true });
    await this.audit.record(ctx.user, 'alerting.rule.delete', id, { revision: record.revision }, ctx.ip);
    return record;
  }

  /** The console's rule preview: the backtest (Kafka within retention, else ClickHouse), nothing sent. */
  async preview(body: { rule?: unknown; from?: string; to?: string }): Promise<BacktestResult> {
    let rule: AlertRule;
    try {
      rule = parseRule(body.rule);
    } catch (error) {
      badRequest(error);
    }
    const to = body.to ? Date.parse(body.to) : Date.now();
    const from = body.from ? Date.parse(body.from) : to - 3_600_000;
    if (!(to > from) || Number.isNaN(from) || Number.isNaN(to))
      throw new BadRequestException('from, to: expected ISO times with from before to');
    if (to - from > 7 * 86_400_000) throw new BadRequestException('to: a preview covers at most 7 days');
    const store = this.store;
    const { inputs, devices } = await readRuleInputs(this.kafka, this.serde, this.topics, rule, from, to, {
      clickhouse: store ? () => Promise.resolve(new AlertInputsQueryRepository(store)) : undefined,
    });
    return backtest(rule, inputs, from, to, devices);
  }

  async acknowledge(alertId: string, body: unknown, ctx: RequestContext): Promise<AlertEvent> {
    let input: z.infer<typeof ackInput>;
    try {
      input = ackInput.parse(body ?? {});
    } catch (error) {
      badRequest(error);
    }
    await this.view.ready();
    const current = this.view.alerts.get(alertId);
    if (!current) throw new NotFoundException(`no alert ${alertId}`);
    if (current.status === 'RESOLVED' || current.status === 'INACTIVE')
      throw new ConflictException(`alert ${alertId} is not active`);
    const event: AlertEvent = {
      ...current,
      eventId: `${alertId}:ack:${randomUUID()}`,
      timestampMs: Date.now(),
      state: 'ACKNOWLEDGED',
      status: 'ACKNOWLEDGED',
      previousStatus: current.status,
      actor: ctx.user.username,
      assignee: input.assignee ?? ctx.user.username,
      comment: input.comment,
    };
    this.alertCodec ??= EventCodec.register(this.serde, eventStreams.alerts, this.topics.alerts);
    const codec = await this.alertCodec;
    await this.producer.send(this.topics.alerts, [
      { key: eventStreams.alerts.key(event), value: codec.encode(event) },
    ]);
    this.view.applyAlert(event);
    await this.audit.record(
      ctx.user,
      'alerting.alert.acknowledge',
      alertId,
      { comment: input.comment, assignee: event.assignee },
      ctx.ip,
    );
    return event;
  }

  async createSilence(body: unknown, ctx: RequestContext): Promise<Silence> {
    let silence: Silence;
    try {
      const input = silenceInput.parse(body ?? {});
      const startsAt = input.startsAt ? Date.parse(input.startsAt) : Date.now();
      const endsAt = input.endsAt
        ? Date.parse(input.endsAt)
        : input.duration
          ? startsAt + parseDuration(input.duration)
          : NaN;
      if (Number.isNaN(endsAt)) throw new Error('endsAt: give endsAt or duration');
      silence = {
        id: randomUUID(),
        matchers: input.matchers,
        startsAt,
        endsAt,
        comment: input.comment,
        createdBy: ctx.user.username,
        recurring: input.recurring
          ? {
              weekdays: input.recurring.weekdays,
              start: input.recurring.start,
              durationMs: parseDuration(input.recurring.duration),
            }
          : undefined,
      };
      validateSilence(silence);
    } catch (error) {
      badRequest(error);
    }
    await this.putSilence(silence);
    await this.audit.record(
      ctx.user,
      'alerting.silence.create',
      silence.id,
      { matchers: silence.matchers, endsAt: silence.endsAt },
      ctx.ip,
    );
    return silence;
  }

  async expireSilence(id: string, ctx: RequestContext): Promise<Silence> {
    await this.view.ready();
    const silence = this.view.silences.get(id);
    if (!silence) throw new NotFoundException(`no silence ${id}`);
    const expired = { ...silence, expired: true, endsAt: Math.min(silence.endsAt, Date.now()) };
    await this.putSilence(expired);
    await this.audit.record(ctx.user, 'alerting.silence.expire', id, {}, ctx.ip);
    return expired;
  }

  private async putSilence(silence: Silence): Promise<void> {
    await this.producer.send(alertingTopics(this.kafkaConfig.namespace).silences, [
      { key: silence.id, value: JSON.stringify(silence) },
    ]);
    this.view.silences.set(silence.id, silence);
  }

  private async currentRule(id: string): Promise<AlertRule> {
    await this.rules.start();
    const entry = this.rules.catalog.get(id);
    if (!entry || entry.record.deleted) throw new NotFoundException(`no alert rule ${id}`);
    if (!entry.rule) throw new ConflictException(`alert rule ${id} does not validate: ${entry.error}`);
    return entry.rule;
  }
}
