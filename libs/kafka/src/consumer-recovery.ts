import { counter, type Logger } from '@sentio/observability';
import type { Consumer, ConsumerRunConfig } from 'kafkajs';

/**
 * The group-membership refusals KafkaJS's runner answers with a rejoin when one reaches it as it came from
 * the broker. A commit's refusal reaches it wrapped by the commit's retry as non-retriable instead, and then
 * KafkaJS 2.2.4 crashes the consumer and does not restart it (its restart is only for retriable causes): a
 * member whose session expired during a broker outage refused its next commit with UNKNOWN_MEMBER_ID and
 * the process lived on without a consumer (found on the three-broker cluster by the detectors' scale test).
 */
const REJOIN = new Set([
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
]);

/**
 * The error to throw out of `eachBatch`: the membership refusal at the root of `error`, unwrapped so the
 * runner rejoins the group, or `error` itself. The batch stays uncommitted; its next owner reads it again.
 */
export function asRejoin(error: unknown): unknown {
  for (let link = error; link instanceof Error; link = link.cause) {
    if (REJOIN.has((link as Error & { type?: string }).type ?? '')) return link;
  }
  return error;
}

const restarts = counter(
  'sentio_kafka_consumer_restarts_total',
  'Consumers started again after KafkaJS crashed them without restarting them',
  ['group'],
);

export interface Supervised {
  /** Whether the consumer is crashed and waiting for its restart: a health check reports it down. */
  readonly down: boolean;
  readonly lastCrash: string | undefined;
}

/**
 * Runs `consumer` with `config` and runs it again whenever KafkaJS crashes it for good, with a growing
 * delay (1 s to 30 s), until `stopping()` says the owner is shutting down. A process must not live on with
 * a dead consumer: its partitions would go to the others only once the group notices, and nothing of its own
 * would ever read again. Listeners registered on the consumer (GROUP_JOIN, ...) carry over to the restart.
 */
export async function runSupervised(
  consumer: Consumer,
  config: ConsumerRunConfig,
  o: { groupId: string; logger: Logger; stopping: () => boolean },
): Promise<Supervised> {
  const state = { down: false, lastCrash: undefined as string | undefined };
  let delayMs = 1_000;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    state.down = false;
    delayMs = 1_000;
  });
  const restart = (): void => {
    setTimeout(() => {
      if (o.stopping()) return;
      consumer.run(config).then(
        () => {
          restarts.inc({ group: o.groupId });
          o.logger.warn({ groupId: o.groupId }, 'consumer started again after a crash');
        },
        (error: unknown) => {
          o.logger.error({ err: error, groupId: o.groupId, retryInMs: delayMs }, 'consumer restart failed');
          delayMs = Math.min(30_000, delayMs * 2);
          restart();
        },
      );
    }, delayMs).unref();
  };
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    o.logger.error(
      { err: payload.error, groupId: payload.groupId, restart: payload.restart },
      'consumer crashed',
    );
    if (payload.restart || o.stopping()) return;
    state.down = true;
    state.lastCrash = payload.error.message;
    restart();
  });
  await consumer.run(config);
  return state;
}
