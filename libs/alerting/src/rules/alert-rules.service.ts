import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type AlertRuleRecord } from '@sentio/events';
import { EVENT_TOPICS, EventProducer, KAFKA, LOGGER, type EventTopics } from '@sentio/kafka';
import type { Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import type { AlertingConfig } from '../alerting.config.js';
import { ALERTING_CONFIG } from '../alerting.tokens.js';
import { RuleSet } from '../evaluation/alert-engine.js';
import { TopicReader } from '../topic-reader.js';
import type { AlertRule } from './alert-rule.schema.js';
import { canonicalRule, RuleCatalog, ruleRecord } from './rule-catalog.js';
import { readRuleFiles } from './rule-provisioning.js';

/**
 * The rules topic as this process sees it: read entirely at start and followed, folded into a catalogue
 * and the evaluator's RuleSet. Changes (API, provisioning) are produced to the topic and applied when read
 * back, so every process converges on the topic's order.
 */
@Injectable()
export class AlertRulesService implements OnModuleDestroy {
  readonly ruleSet = new RuleSet();
  readonly catalog = new RuleCatalog(this.ruleSet);
  private codec: EventCodec<AlertRuleRecord> | undefined;
  private reader: TopicReader | undefined;
  private starting: Promise<void> | undefined;
  private readonly logger: Logger;
  private readonly waiters = new Map<string, Array<{ revision: number; resolve: () => void }>>();

  constructor(
    @Inject(ALERTING_CONFIG) private readonly config: AlertingConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(LOGGER) logger: Logger,
    @Inject(AvroSerde) private readonly serde: AvroSerde,
    @Inject(EventProducer) private readonly producer: EventProducer,
  ) {
    this.logger = logger.child({ component: 'alert-rules' });
  }

  /** Idempotent: the first caller starts reading; everyone waits until the topic has been read to its end. */
  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const codec = await EventCodec.register(this.serde, eventStreams.alertRules, this.topics.alertRules);
    this.codec = codec;
    this.reader = new TopicReader(
      this.kafka,
      [this.topics.alertRules],
      async (_topic, _partition, message) => {
        if (!message.value) return;
        await codec.prepare([message.value]);
        const decoded = codec.decode(message.value);
        if (!decoded.ok) {
          this.logger.warn(
            { offset: message.offset, reason: decoded.reason },
            'undecodable rule record skipped',
          );
          return;
        }
        this.catalog.apply(decoded.value);
        const waiting = this.waiters.get(decoded.value.ruleId);
        if (waiting) {
          for (const w of waiting.filter((w) => w.revision <= decoded.value.revision)) w.resolve();
          this.waiters.set(
            decoded.value.ruleId,
            waiting.filter((w) => w.revision > decoded.value.revision),
          );
        }
      },
      this.logger,
      this.config.groupId,
    );
    await this.reader.start();
    await this.reader.caughtUp;
    this.logger.info({ rules: this.catalog.list().length }, 'rules loaded');
  }

  /** Writes a revision and resolves once this process has read it back (so a following GET sees it). */
  async publish(record: AlertRuleRecord): Promise<AlertRuleRecord> {
    await this.start();
    const seen = new Promise<void>((resolve) => {
      const list = this.waiters.get(record.ruleId) ?? [];
      list.push({ revision: record.revision, resolve });
      this.waiters.set(record.ruleId, list);
    });
    await this.producer.send(this.topics.alertRules, [
      { key: record.ruleId, value: this.codec!.encode(record) },
    ]);
    await Promise.race([seen, new Promise((r) => setTimeout(r, 10_000))]);
    return record;
  }

  change(
    rule: AlertRule,
    by: string,
    options: { source?: 'API' | 'PROVISIONED'; sourceFile?: string | null; deleted?: boolean } = {},
  ): Promise<AlertRuleRecord> {
    const previous = this.catalog.get(rule.id)?.record;
    return this.publish(
      ruleRecord(rule, previous, {
        by,
        source: options.source ?? 'API',
        sourceFile: options.sourceFile ?? null,
        deleted: options.deleted ?? false,
      }),
    );
  }

  /** Provisions the YAML rules: a rule that differs from the topic's current one gets a new revision. */
  async provision(path: string): Promise<{ changed: string[]; unchanged: string[] }> {
    await this.start();
    const rules = readRuleFiles(path);
    const changed: string[] = [];
    const unchanged: string[] = [];
    for (const rule of rules) {
      const current = this.catalog.get(rule.id);
      if (current && !current.record.deleted && current.record.definition === canonicalRule(rule)) {
        unchanged.push(rule.id);
        continue;
      }
      await this.change(rule, 'provisioning', { source: 'PROVISIONED', sourceFile: path });
      changed.push(rule.id);
    }
    this.logger.info({ path, changed, unchanged: unchanged.length }, 'rules provisioned');
    return { changed, unchanged };
  }

  async onModuleDestroy(): Promise<void> {
    await this.reader?.stop();
  }
}
