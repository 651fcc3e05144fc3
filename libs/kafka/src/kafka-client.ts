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

/** A KafkaJS client whose own logs join the service's JSON log stream. */
export function createKafka(config: KafkaConfig, logger: Logger, clientId = config.clientId): KafkaClient {
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
        log[levels[level] ?? 'info'](rest, message);
      },
  });
}
