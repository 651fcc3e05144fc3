import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import './kafkajs-patches.js';

const require = createRequire(import.meta.url);

describe('kafkajs patches', () => {
  it('the producer groups messages per partition in one pass, keeping their order', () => {
    const group = require('kafkajs/src/producer/groupMessagesPerPartition.js') as (
      args: object,
    ) => Record<number, unknown[]>;
    const messages = Array.from({ length: 50_000 }, (_, i) => ({ key: String(i % 7), value: String(i) }));
    const grouped = group({
      topic: 't',
      partitionMetadata: [{}, {}, {}],
      messages,
      partitioner: ({ message }: { message: { key: string } }) => Number(message.key) % 3,
    });
    expect((group as { name: string }).name).toBe('groupMessagesPerPartition');
    expect(Object.keys(grouped).sort()).toEqual(['0', '1', '2']);
    expect(grouped[0]!.length + grouped[1]!.length + grouped[2]!.length).toBe(50_000);
    const values = (grouped[1] as Array<{ value: string }>).map((m) => Number(m.value));
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(group({ topic: 't', partitionMetadata: [], messages, partitioner: () => 0 })).toEqual({});
  });
});
