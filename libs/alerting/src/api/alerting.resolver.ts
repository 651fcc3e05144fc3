import { Inject } from '@nestjs/common';
import { Args, Field, Float, ID, Int, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import type { AlertEvent, AlertRuleRecord } from '@sentio/events';
import { CurrentUser, Roles, type AuthenticatedUser } from '@sentio/query-api';
import type { DeliveryAttempt } from '../notify/notification-log.js';
import { AlertHistoryService } from './alert-history.service.js';
import { AlertingApiService } from './alerting-api.service.js';

@ObjectType('AlertRule')
class AlertRuleGql {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field() kind!: string;
  @Field() paused!: boolean;
  @Field(() => Int) revision!: number;
  @Field({ description: 'The rule as JSON (the rule model of the README).' }) definition!: string;
  @Field() source!: string;
  @Field() updatedAt!: string;
  @Field() updatedBy!: string;
}

@ObjectType('Alert')
class AlertGql {
  @Field(() => ID) alertId!: string;
  @Field() eventId!: string;
  @Field() status!: string;
  @Field({ nullable: true }) previousStatus?: string;
  @Field() severity!: string;
  @Field() severityReason!: string;
  @Field() ruleId!: string;
  @Field({ nullable: true }) deviceId?: string;
  @Field() title!: string;
  @Field() description!: string;
  @Field(() => Float, { nullable: true }) value?: number | null;
  @Field() flapping!: boolean;
  @Field() at!: string;
  @Field({ description: 'Labels as a JSON object.' }) labels!: string;
  @Field({ description: 'Annotations as a JSON object.' }) annotations!: string;
  @Field({ nullable: true }) acknowledgedBy?: string;
  @Field({ nullable: true }) assignee?: string;
  @Field({ nullable: true }) comment?: string;
}

@ObjectType('AlertHistoryPage')
class AlertHistoryPageGql {
  @Field(() => [AlertGql]) alerts!: AlertGql[];
  @Field({ nullable: true, description: 'The cursor of the next (older) page.' }) next?: string;
}

@ObjectType('DeliveryAttempt')
class DeliveryAttemptGql {
  @Field(() => ID) id!: string;
  @Field() idempotencyKey!: string;
  @Field() receiver!: string;
  @Field() integration!: string;
  @Field(() => Int) attempt!: number;
  @Field() ok!: boolean;
  @Field({ nullable: true }) error?: string;
  @Field() at!: string;
  @Field(() => Int) durationMs!: number;
}

const rule = (r: AlertRuleRecord): AlertRuleGql => ({
  id: r.ruleId,
  name: r.name,
  kind: r.kind,
  paused: r.paused,
  revision: r.revision,
  definition: r.definition,
  source: r.source,
  updatedAt: new Date(r.updatedAtMs).toISOString(),
  updatedBy: r.updatedBy,
});

const alert = (a: AlertEvent): AlertGql => ({
  alertId: a.alertId,
  eventId: a.eventId,
  status: a.status ?? a.state,
  previousStatus: a.previousStatus ?? undefined,
  severity: a.level ?? a.severity,
  severityReason: a.severityReason,
  ruleId: a.ruleId,
  deviceId: a.deviceId ?? undefined,
  title: a.title,
  description: a.description,
  value: a.value,
  flapping: a.flapping,
  at: new Date(a.timestampMs).toISOString(),
  labels: JSON.stringify(a.labels),
  annotations: JSON.stringify(a.annotations),
  acknowledgedBy: a.actor ?? undefined,
  assignee: a.assignee ?? undefined,
  comment: a.comment ?? undefined,
});

const delivery = (d: DeliveryAttempt): DeliveryAttemptGql => ({
  id: d.id,
  idempotencyKey: d.idempotencyKey,
  receiver: d.receiver,
  integration: d.integration,
  attempt: d.attempt,
  ok: d.ok,
  error: d.error ?? undefined,
  at: new Date(d.startedAt).toISOString(),
  durationMs: d.durationMs,
});

/** The same operations over GraphQL (rules as JSON strings, validated like REST). */
@Resolver()
@Roles('viewer')
export class AlertingResolver {
  constructor(
    @Inject(AlertingApiService) private readonly api: AlertingApiService,
    @Inject(AlertHistoryService) private readonly history: AlertHistoryService,
  ) {}

  @Query(() => [AlertRuleGql])
  async alertRules(): Promise<AlertRuleGql[]> {
    return (await this.api.listRules()).map(rule);
  }

  @Query(() => [AlertGql], {
    description: 'Current alerts (pending, firing, no data, error); all: also resolved.',
  })
  async alerts(@Args('all', { defaultValue: false }) all: boolean): Promise<AlertGql[]> {
    await this.api.view.ready();
    return [...this.api.view.alerts.values()]
      .filter((a) => all || (a.status !== 'RESOLVED' && a.status !== 'INACTIVE'))
      .sort((a, b) => b.timestampMs - a.timestampMs)
      .map(alert);
  }

  @Query(() => [AlertGql], { description: "One alert's transitions, oldest first, from the alerts table." })
  async alertHistory(
    @Args('alertId') alertId: string,
    @Args('limit', { type: () => Int, nullable: true }) limit?: number,
  ): Promise<AlertGql[]> {
    return (await this.history.history(alertId, limit ?? undefined)).map(alert);
  }

  @Query(() => AlertHistoryPageGql, {
    description:
      'Transitions from the alerts table, newest first; state and severity comma-separated, from/to ISO times.',
  })
  async alertTransitions(
    @Args('state', { nullable: true }) state?: string,
    @Args('severity', { nullable: true }) severity?: string,
    @Args('deviceId', { nullable: true }) device?: string,
    @Args('ruleId', { nullable: true }) rule?: string,
    @Args('from', { nullable: true }) from?: string,
    @Args('to', { nullable: true }) to?: string,
    @Args('limit', { type: () => Int, nullable: true }) limit?: number,
    @Args('cursor', { nullable: true }) cursor?: string,
  ): Promise<AlertHistoryPageGql> {
    const page = await this.history.list({
      state: state ?? undefined,
      severity: severity ?? undefined,
      device: device ?? undefined,
      rule: rule ?? undefined,
      from: from ?? undefined,
      to: to ?? undefined,
      limit: limit ?? undefined,
      cursor: cursor ?? undefined,
    });
    return { alerts: page.alerts.map(alert), next: page.next ?? undefined };
  }

  @Query(() => [DeliveryAttemptGql])
  async deliveryAttempts(
    @Args('limit', { type: () => Int, defaultValue: 100 }) limit: number,
  ): Promise<DeliveryAttemptGql[]> {
    await this.api.view.ready();
    return this.api.view.deliveries
      .slice(-Math.min(Math.max(limit, 1), 10_000))
      .reverse()
      .map(delivery);
  }

  @Mutation(() => AlertRuleGql, { description: 'Creates or replaces a rule from its JSON definition.' })
  @Roles('operator')
  async putAlertRule(
    @Args('definition') definition: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<AlertRuleGql> {
    let body: unknown;
    try {
      body = JSON.parse(definition);
    } catch {
      body = definition;
    }
    return rule(await this.api.putRule(body, { user, ip: 'graphql' }, 'replace'));
  }

  @Mutation(() => AlertRuleGql)
  @Roles('operator')
  async pauseAlertRule(
    @Args('id') id: string,
    @Args('paused') paused: boolean,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<AlertRuleGql> {
    return rule(await this.api.setPaused(id, paused, { user, ip: 'graphql' }));
  }

  @Mutation(() => AlertRuleGql)
  @Roles('operator')
  async deleteAlertRule(
    @Args('id') id: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<AlertRuleGql> {
    return rule(await this.api.deleteRule(id, { user, ip: 'graphql' }));
  }

  @Mutation(() => AlertGql)
  @Roles('operator')
  async acknowledgeAlert(
    @Args('alertId') alertId: string,
    @Args('comment') comment: string,
    @Args('assignee', { type: () => String, nullable: true }) assignee: string | undefined,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<AlertGql> {
    return alert(
      await this.api.acknowledge(
        alertId,
        { comment, ...(assignee ? { assignee } : {}) },
        { user, ip: 'graphql' },
      ),
    );
  }
}
