import type { INestApplicationContext } from '@nestjs/common';
import { deadLetterHeaders } from '@sentio/kafka';
import { HealthRegistry } from '@sentio/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from './support/backbone.js';
import { startOtlp } from './support/otlp-harness.js';
import { collect, until, type Collected } from './support/connector-harness.js';

const MAX_RECORD = 64 * 1024;

/** One JSON log export: a record per body, each for device pump-1. */
function logsExport(bodies: string[]) {
  const now = `${Date.now()}000000`;
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'device.id', value: { stringValue: 'pump-1' } }] },
        scopeLogs: [
          {
            scope: { name: 'test' },
            logRecords: bodies.map((body) => ({
              timeUnixNano: now,
              severityNumber: 9,
              body: { stringValue: body },
            })),
          },
        ],
      },
    ],
  };
}

// A log record too large for a Kafka record must not turn the whole export into a 503 that the exporter
// retries for ever: it is rejected on its own (partial success) and dead-lettered cut down.
describe('hardening: an OTLP record over the producer limit', () => {
  let box: Sandbox;
  let app: INestApplicationContext;
  let base: string;
  let got: Collected;

  beforeAll(async () => {
    box = await sandbox('hardening_otlp');
    ({ app, base } = await startOtlp(box, {
      maxBodyBytes: 1024 * 1024,
      deviceIdAttributes: ['device.id'],
      producer: { maxRecordBytes: MAX_RECORD },
    }));
    got = await collect(box);
  });

  afterAll(async () => {
    await got?.consumer.disconnect();
    await app?.close();
  });

  it('rejects that record alone, dead-letters it cut down, and keeps taking exports', async () => {
    const post = (bodies: string[]) =>
      fetch(`${base}/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(logsExport(bodies)),
      });
    const huge = 'x'.repeat(200_000);
    const response = await post(['before', huge, 'beside']);
    expect(response.status).toBe(200);
    const answer = (await response.json()) as {
      partialSuccess: { rejectedLogRecords: string; errorMessage: string };
    };
    expect(answer.partialSuccess.rejectedLogRecords).toBe('1');
    expect(answer.partialSuccess.errorMessage).toMatch(/exceeds the limit of 65536/);

    expect((await post(['after'])).status).toBe(200);
    await until(
      'the kept logs and the dead letter',
      () => got.logs.length >= 3 && got.dlq.length >= 1,
      () => ({ logs: got.logs.length, dlq: got.dlq.length }),
    );
    expect(got.logs.map((l) => l.body).sort()).toEqual(['after', 'before', 'beside']);
    const [letter] = got.dlq;
    const header = (name: string) => letter!.headers?.[name]?.toString();
    expect(header(deadLetterHeaders.reason)).toMatch(/^logs record of \d+ bytes exceeds the limit of 65536/);
    expect(header(deadLetterHeaders.truncated)).toBe('true');
    expect(Number(header(deadLetterHeaders.valueBytes))).toBeGreaterThan(200_000);
    expect(letter!.value!.length).toBe(4096);
    const health = await app.get(HealthRegistry).summary();
    expect(health.components['producer']?.state).toBe('up');
  });
});
