import type { SystemQueryRepository } from '@sentio/clickhouse';
import type { EventTopics } from '@sentio/kafka';
import { HealthRegistry } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { as } from '../common/spec-fakes.util.js';
import type { DeadLettersService } from './dead-letters.service.js';
import { SystemStatusService } from './system-status.service.js';

const TOPICS = { telemetry: 'ns.telemetry.samples.v1', logs: 'ns.logs.records.v1' } as unknown as EventTopics;

/**
 * The lag arithmetic and the assembly of the status, over a fake admin client; the real broker's answers
 * are checked by the query API's integration test.
 */
function setup() {
  const admin = {
    connect: vi.fn(async () => undefined),
    disconnect: vi.fn(async () => undefined),
    listGroups: vi.fn(async () => ({
      groups: [
        { groupId: 'ingest', protocolType: 'consumer' },
        { groupId: 'other-namespace', protocolType: 'consumer' },
        { groupId: 'connect-cluster', protocolType: 'connect' },
      ],
    })),
    fetchTopicOffsets: vi.fn(async (topic: string) =>
      topic === TOPICS.telemetry
        ? [
            { partition: 0, high: '100', low: '0', offset: '100' },
            { partition: 1, high: '50', low: '0', offset: '50' },
          ]
        : [{ partition: 0, high: '7', low: '0', offset: '7' }],
    ),
    fetchOffsets: vi.fn(async ({ groupId }: { groupId: string }) =>
      groupId === 'ingest'
        ? [
            {
              topic: TOPICS.telemetry,
              partitions: [
                { partition: 0, offset: '90' },
                // Nothing committed yet on this partition: all of it is behind.
                { partition: 1, offset: '-1' },
              ],
            },
            { topic: TOPICS.logs, partitions: [{ partition: 0, offset: '7' }] },
            { topic: 'elsewhere.topic', partitions: [{ partition: 0, offset: '0' }] },
          ]
        : [{ topic: 'other.ns.topic', partitions: [{ partition: 0, offset: '1' }] }],
    ),
  };
  const health = new HealthRegistry();
  health.register('kafka', () => ({ state: 'up' }));
  health.register('ingest', () => ({ state: 'degraded', detail: { reason: 'stalled' } }));
  const mocks = {
    admin,
    system: {
      tableSizes: vi.fn(async () => [{ table: 'metrics', rows: '12', bytes_on_disk: '3456', parts: '2' }]),
    },
    deadLetters: { counts: vi.fn(() => []) },
  };
  const sut = new SystemStatusService(
    as<Kafka>({ admin: () => admin }),
    TOPICS,
    health,
    as<SystemQueryRepository>(mocks.system),
    as<DeadLettersService>(mocks.deadLetters),
  );
  return { sut, mocks };
}

describe('SystemStatusService', () => {
  it("sums each group's lag over this namespace's topics only, nothing committed counting as all", async () => {
    const { sut, mocks } = setup();
    const status = await sut.status();
    expect(status.consumerGroups).toEqual([
      {
        groupId: 'ingest',
        lag: 60,
        topics: [
          { topic: TOPICS.logs, lag: 0 },
          { topic: TOPICS.telemetry, lag: 60 },
        ],
      },
    ]);
    expect(mocks.admin.fetchOffsets).not.toHaveBeenCalledWith({ groupId: 'connect-cluster' });
    expect(mocks.admin.disconnect).toHaveBeenCalled();
  });

  it('reports the worst component state, each component with its detail, and table sizes as numbers', async () => {
    const { sut } = setup();
    const status = await sut.status();
    expect(status.status).toBe('degraded');
    expect(status.components).toEqual([
      { name: 'ingest', state: 'degraded', detail: '{"reason":"stalled"}' },
      { name: 'kafka', state: 'up', detail: '{}' },
    ]);
    expect(status.tables).toEqual([{ table: 'metrics', rows: 12, bytesOnDisk: 3456, parts: 2 }]);
    expect(status.deadLetters).toEqual([]);
  });
});
