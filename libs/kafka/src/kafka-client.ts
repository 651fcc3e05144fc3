import type { Logger } from '@sentio/observability';
import './kafkajs-patches.js';
import kafkajs, { type Kafka as KafkaClient, type LogEntry } from 'kafkajs';

// KafkaJS is CommonJS without static named exports: take the values from its default export.
const { Kafka, logLevel } = kafkajs;
import type { KafkaConfig } from './kafka.config.js';

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Answers a broker gives while it settles, which KafkaJS logs as errors and then retries: the group
 * coordinator still loading or not elected, a topic just created not yet hosted, a leader being elected.
 */
const transientErrors =
  /coordinator is loading|coordinator is not available|not the correct coordinator|does not host this topic-partition|leader is not available|There is no leader for this topic-partition|rebalance in progress|Topic creation errors/i;

/**
 * A KafkaJS client whose own logs join the service's JSON log stream. Every client of the project comes from
 * here, so the producer patch (kafkajs-patches.ts) and the log handling apply to all of them.
 */
export function createKafka(
  config: Pick<KafkaConfig, 'brokers' | 'clientId'>,
  logger: Logger,
  clientId = config.clientId,
): KafkaClient {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: config.brokers,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 200, retries: 8 },
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        const transient =
          level === logLevel.ERROR && transientErrors.test(`${String(rest['error'] ?? '')} ${message}`);
        // Expected while a broker or a group settles (start-up, a rebalance): not worth an error line.
        if (transient) log.info({ ...rest, transient: true }, message);
        else log[levels[level] ?? 'info'](rest, message);
      },
  });
}
