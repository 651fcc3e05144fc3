import { Inject, Injectable } from '@nestjs/common';
import { EVENT_TOPICS, KAFKA, type EventTopics } from '@sentio/kafka';
import { HealthRegistry } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import { SystemQueryRepository } from '@sentio/clickhouse';
import { DeadLettersService } from './dead-letters.service.js';
import type { ConsumerGroupLagDto, SystemStatusDto, TableSizeDto } from './system-status.dto.js';

@Injectable()
export class SystemStatusService {
  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(SystemQueryRepository) private readonly system: SystemQueryRepository,
    @Inject(DeadLettersService) private readonly deadLetters: DeadLettersService,
  ) {}

  async status(): Promise<SystemStatusDto> {
    const [summary, consumerGroups, tables] = await Promise.all([
      this.health.summary(),
      this.consumerGroups(),
      this.tableSizes(),
    ]);
    return {
      status: summary.status,
      components: Object.entries(summary.components)
        .map(([name, report]) => ({ name, state: report.state, detail: JSON.stringify(report.detail ?? {}) }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      consumerGroups,
      tables,
      deadLetters: this.deadLetters.counts(),
    };
  }

  /**
   * Lag of every consumer group that committed offsets on this namespace's topics: other namespaces share
   * the cluster, and groups that never commit (the live feeds) have no lag to speak of.
   */
  private async consumerGroups(): Promise<ConsumerGroupLagDto[]> {
    const ours = new Set<string>(Object.values(this.topics));
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.listGroups();
      const ends = new Map<string, Map<number, number>>();
      const endOf = async (topic: string) => {
        let partitions = ends.get(topic);
        if (!partitions) {
          const offsets = await admin.fetchTopicOffsets(topic);
          partitions = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
          ends.set(topic, partitions);
        }
        return partitions;
      };
      const result: ConsumerGroupLagDto[] = [];
      for (const { groupId } of groups.filter(
        (g) => g.protocolType === 'consumer' || g.protocolType === '',
      )) {
        const committed = (await admin.fetchOffsets({ groupId })).filter((t) => ours.has(t.topic));
        if (committed.length === 0) continue;
        const topics = [];
        for (const { topic, partitions } of committed) {
          const high = await endOf(topic);
          const lag = partitions.reduce((sum, p) => {
            const end = high.get(p.partition) ?? 0;
            // -1: nothing committed yet on the partition, so all of it is behind.
            return sum + Math.max(0, end - Math.max(0, Number(p.offset)));
          }, 0);
          topics.push({ topic, lag });
        }
        topics.sort((a, b) => a.topic.localeCompare(b.topic));
        result.push({ groupId, lag: topics.reduce((s, t) => s + t.lag, 0), topics });
      }
      return result.sort((a, b) => a.groupId.localeCompare(b.groupId));
    } finally {
      await admin.disconnect();
    }
  }

  private async tableSizes(): Promise<TableSizeDto[]> {
    return (await this.system.tableSizes()).map((r) => ({
      table: r.table,
      rows: Number(r.rows),
      bytesOnDisk: Number(r.bytes_on_disk),
      parts: Number(r.parts),
    }));
  }
}
