import { randomBytes } from 'node:crypto';
import {
  BadRequestException,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { BatchConsumer, EVENT_TOPICS, KAFKA, type EventTopics } from '@sentio/kafka';
import type { Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG, QUERY_API_LOGGER } from '../query-api.tokens.js';
import { DeadLetterTally, toDeadLetterView } from './dead-letter-view.util.js';
import type { DeadLetterCountDto, DeadLetterPageDto, DeadLettersQueryDto } from './dead-letters.dto.js';

/** Dead letters kept for the browser; the counts cover every one read. */
const KEEP = 500;

/**
 * The dead-letter topic as operators browse it. Each process reads the whole topic (within its retention)
 * with a group of its own, from the beginning and without committing, like the live feed: the topic is
 * small, and a restarted process counts everything again. The topic is not a stream of the catalogue (its
 * records are the failed inputs, byte for byte, not Avro events), so it is read by a plain BatchConsumer
 * rather than a @StreamHandler.
 */
@Injectable()
export class DeadLettersService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly tally = new DeadLetterTally(KEEP);
  private consumer?: BatchConsumer;

  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(QUERY_API_LOGGER) private readonly logger: Logger,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const groupId = `${this.config.live.groupPrefix}-dlq-${randomBytes(6).toString('hex')}`;
    this.consumer = new BatchConsumer(
      this.kafka,
      { groupId, topics: [this.topics.deadLetter], fromBeginning: true },
      this.logger,
    );
    await this.consumer.start(async (batch) => {
      for (const message of batch.messages) this.tally.add(toDeadLetterView(batch.partition, message));
    });
    this.logger.info({ groupId, topic: this.topics.deadLetter }, 'query-api: reading the dead-letter topic');
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
  }

  counts(): DeadLetterCountDto[] {
    return this.tally.byReason();
  }

  page(query: DeadLettersQueryDto): DeadLetterPageDto {
    if (query.limit !== undefined && query.limit > KEEP) {
      throw new BadRequestException(`limit: expected at most ${KEEP}`);
    }
    return {
      total: this.tally.total,
      byReason: this.tally.byReason(),
      items: this.tally.latest(query.limit ?? 100, query.component),
    };
  }
}
