import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createKafka } from './kafka-client.js';
import type { KafkaConfig } from './kafka.config.js';

const config = { brokers: ['127.0.0.1:1'], clientId: 'spec' } as KafkaConfig;

/** KafkaJS's own log lines, as they reach the service's JSON log. */
function capture(): {
  lines: Array<{ level: number; msg: string; transient?: boolean }>;
  logger: pino.Logger;
} {
  const lines: Array<{ level: number; msg: string; transient?: boolean }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { lines, logger };
}

describe('createKafka logging', () => {
  it('logs the errors a settling broker answers at info, marked transient, and real errors as errors', () => {
    const { lines, logger } = capture();
    const kafka = createKafka(config, logger);
    const log = kafka.logger();
    log.error('Response GroupCoordinator(key: 10, version: 2)', {
      error: 'The group coordinator is not available',
    });
    log.error('Response JoinGroup(key: 11, version: 5)', {
      error: "The coordinator is loading and hence can't process requests",
    });
    log.error('Response Metadata(key: 3, version: 6)', {
      error: 'This server does not host this topic-partition',
    });
    log.error('Response Produce(key: 0, version: 7)', {
      error: 'The request included a message larger than the max message size the server will accept',
    });
    expect(lines.map((l) => [l.level, l.transient ?? false])).toEqual([
      [30, true],
      [30, true],
      [30, true],
      [50, false],
    ]);
  });
});
