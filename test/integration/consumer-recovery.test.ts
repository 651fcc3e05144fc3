import { BatchConsumer, consumerLag, type ConsumedBatch } from '@sentio/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger, produceTelemetry, sandbox, telemetry, type Sandbox } from './support/backbone.js';

const SESSION_MS = 6_000;

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A KafkaJS consumer crashes for good (no restart) on a non-retriable error, and a commit refused because the
 * member's session expired is one: the process then lives on without a consumer. Real broker, real groups.
 */
describe('consumers recover from what KafkaJS would crash them with', () => {
  let box: Sandbox;
  const consumers: BatchConsumer[] = [];

  beforeAll(async () => {
    box = await sandbox('consumer_recovery');
    await produceTelemetry(box, telemetry(3_000, 50));
  }, 120_000);

  afterAll(async () => {
    for (const c of consumers) await c.stop().catch(() => undefined);
  });

  async function member(
    groupId: string,
    handle: (batch: ConsumedBatch, consumer: BatchConsumer) => Promise<void>,
  ): Promise<BatchConsumer> {
    const consumer = new BatchConsumer(
      box.kafka,
      { groupId, topics: [box.topics.telemetry], sessionTimeoutMs: SESSION_MS },
      logger,
    );
    consumers.push(consumer);
    await consumer.start((batch) => handle(batch, consumer));
    return consumer;
  }

  it('a member whose session expired during a batch rejoins when its commit is refused, and commits everything', async () => {
    const groupId = `recovery-expired-${box.namespace}`;
    let stalled = false;
    let refused = 0;
    const handled = new Set<string>();
    await member(groupId, async (batch, consumer) => {
      if (!stalled) {
        stalled = true;
        // No heartbeat for longer than the session: the coordinator drops the member meanwhile.
        await new Promise((r) => setTimeout(r, SESSION_MS * 2));
      }
      for (const m of batch.messages) handled.add(`${batch.partition}:${m.offset}`);
      const next = String(BigInt(batch.messages.at(-1)!.offset) + 1n);
      try {
        await consumer.commit(batch.topic, batch.partition, next);
      } catch (error) {
        refused++;
        throw error;
      }
    });
    await until(
      'the group to commit every record',
      async () => (await consumerLag(box.kafka, groupId, box.topics.telemetry)) === 0,
    );
    expect(refused).toBeGreaterThan(0);
    expect(handled.size).toBe(3_000);
  }, 120_000);

  it('a consumer KafkaJS crashed without a restart is started again, reports down meanwhile, and reads on', async () => {
    const groupId = `recovery-crash-${box.namespace}`;
    let crashes = 0;
    const handled = new Set<string>();
    const consumer = await member(groupId, async (batch, self) => {
      if (crashes === 0) {
        crashes++;
        // What KafkaJS's retry throws for a refusal it does not retry: the consumer crashes, restart false.
        throw Object.assign(new Error('refused for good'), {
          name: 'KafkaJSNonRetriableError',
          retriable: false,
        });
      }
      for (const m of batch.messages) handled.add(`${batch.partition}:${m.offset}`);
      await self.commit(batch.topic, batch.partition, String(BigInt(batch.messages.at(-1)!.offset) + 1n));
    });
    let reportedDown: string | undefined;
    const watch = setInterval(() => (reportedDown ??= consumer.crashed), 20);
    await until(
      'the restarted consumer to commit every record',
      async () => (await consumerLag(box.kafka, groupId, box.topics.telemetry)) === 0,
    );
    expect(crashes).toBe(1);
    expect(handled.size).toBe(3_000);
    clearInterval(watch);
    expect(reportedDown).toBe('refused for good');
    expect(consumer.crashed).toBeUndefined();
  }, 120_000);
});
