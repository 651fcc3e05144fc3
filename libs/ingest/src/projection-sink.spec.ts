import type { EventCodec } from '@sentio/avro';
import type { Projection, SinkBatch, SinkBatchesRepository } from '@sentio/clickhouse';
import type { ConsumedBatch, DeadLetter, DeadLetterPublisher } from '@sentio/kafka';
import { createLogger } from '@sentio/observability';
import { describe, expect, it } from 'vitest';
import { ProjectionSink } from './projection-sink.js';

interface Reading {
  id: number;
}

/** The sink with every collaborator replaced by an in-memory record of what it was asked to do. */
function setup(
  options: {
    pending?: SinkBatch[];
    maxBatchRecords?: number;
    failInserts?: number;
    partitions?: number;
    committed?: Record<number, number>;
    insertPerRange?: boolean;
    /** What the coordinator answers, in turn, when the sink asks whether this member holds its assignment. */
    held?: boolean[];
  } = {},
) {
  const inserts: Array<{ ids: number[]; token: string }> = [];
  const intents: SinkBatch[] = [];
  const commits: string[] = [];
  const letters: DeadLetter[] = [];
  let failures = options.failInserts ?? 0;
  const codec = {
    prepare: async () => undefined,
    decode: (value: Buffer | null) => {
      const text = value?.toString() ?? '';
      return /^-?\d+$/.test(text)
        ? { ok: true, value: { id: Number(text) }, schemaId: 1 }
        : { ok: false, reason: `not a number: ${text}` };
    },
  } as unknown as EventCodec<Reading>;
  const projection: Projection<Reading> = {
    table: 'readings',
    insert: async (records, token) => {
      if (failures-- > 0) throw new Error('clickhouse unavailable');
      inserts.push({ ids: records.map((r) => r.id), token });
    },
  };
  const batches = {
    record: async (_group: string, ranges: SinkBatch[]) => void intents.push(...ranges),
    latest: async () => options.pending ?? [],
  } as unknown as SinkBatchesRepository;
  const deadLetters = {
    publish: async (l: DeadLetter[]) => void letters.push(...l),
  } as unknown as DeadLetterPublisher;
  const sut = new ProjectionSink(
    [
      { topic: 't', codec, projection, validate: (r: Reading) => (r.id < 0 ? 'negative' : undefined) },
    ] as never,
    batches,
    deadLetters,
    async (_topic, partition, offset) => void commits.push(`${partition}@${offset}`),
    {
      groupId: 'g',
      flushIntervalMs: 60_000,
      maxBatchRecords: options.maxBatchRecords ?? 1000,
      committedOffsets: options.committed
        ? async () => new Map(Object.entries(options.committed!).map(([p, o]) => [Number(p), BigInt(o)]))
        : undefined,
      insertPerRange: options.insertPerRange,
      holdsAssignment: options.held ? async () => options.held!.shift() ?? true : undefined,
    },
    createLogger('test', 'silent'),
  );
  sut.onAssignment(
    Array.from({ length: options.partitions ?? 1 }, (_, partition) => ({ topic: 't', partition })),
  );
  return { sut, inserts, intents, commits, letters };
}

function batch(first: number, values: string[], partition = 0): ConsumedBatch {
  return {
    topic: 't',
    partition,
    highWatermark: String(first + values.length),
    heartbeat: async () => undefined,
    messages: values.map((v, i) => ({
      offset: String(first + i),
      key: null,
      value: Buffer.from(v),
      timestamp: '0',
      attributes: 0,
      headers: {},
    })),
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

describe('ProjectionSink', () => {
  it('writes ahead, inserts under a token naming the range, then commits the next offset', async () => {
    const { sut, inserts, intents, commits } = setup({ maxBatchRecords: 5 });
    await sut.handle(batch(0, range(0, 6)));
    expect(intents).toEqual([
      { topic: 't', partition: 0, firstOffset: '0', lastOffset: '4', records: 5, cycle: 'g:t:0:0-4' },
    ]);
    expect(inserts).toEqual([{ ids: [0, 1, 2, 3, 4], token: 'g:t:0:0-4' }]);
    expect(commits).toEqual(['0@5']);
    await sut.drain();
    expect(inserts[1]).toEqual({ ids: [5, 6], token: 'g:t:0:5-6' });
    expect(commits).toEqual(['0@5', '0@7']);
  });

  it('inserts the ranges of every partition of a topic as one block, written ahead together', async () => {
    const { sut, inserts, intents, commits } = setup({ maxBatchRecords: 5, partitions: 2 });
    await sut.handle(batch(0, range(0, 1), 1));
    expect(inserts).toEqual([]);
    await sut.handle(batch(10, range(10, 12), 0));
    const token = 'g:t:0:10-12,1:0-1';
    expect(inserts).toEqual([{ ids: [0, 1, 10, 11, 12], token }]);
    expect(intents).toEqual([
      { topic: 't', partition: 1, firstOffset: '0', lastOffset: '1', records: 2, cycle: token },
      { topic: 't', partition: 0, firstOffset: '10', lastOffset: '12', records: 3, cycle: token },
    ]);
    expect(commits.sort()).toEqual(['0@13', '1@2']);
  });

  it('repeats a written-ahead cycle of several partitions as one block under its token', async () => {
    const cycle = 'g:t:0:0-2,1:5-6';
    const { sut, inserts, intents, commits } = setup({
      partitions: 2,
      pending: [
        { topic: 't', partition: 0, firstOffset: '0', lastOffset: '2', records: 3, cycle },
        { topic: 't', partition: 1, firstOffset: '5', lastOffset: '6', records: 2, cycle },
      ],
    });
    await sut.handle(batch(0, range(0, 3), 0));
    expect(inserts).toEqual([]); // partition 1's range is not read yet: not a word under that token
    await sut.handle(batch(5, range(5, 6), 1));
    await sut.drain();
    expect(inserts).toEqual([
      { ids: [0, 1, 2, 5, 6], token: cycle },
      { ids: [3], token: 'g:t:0:3-3' },
    ]);
    expect(intents.map((i) => i.cycle)).toEqual(['g:t:0:3-3']);
    expect(commits).toEqual(['0@3', '1@7', '0@4']);
  });

  it('takes a partition committed past its range as proof the cycle landed: no insert, the rest committed', async () => {
    const cycle = 'g:t:0:0-2,1:5-6';
    const { sut, inserts, commits } = setup({
      partitions: 2,
      pending: [
        { topic: 't', partition: 0, firstOffset: '0', lastOffset: '2', records: 3, cycle },
        { topic: 't', partition: 1, firstOffset: '5', lastOffset: '6', records: 2, cycle },
      ],
    });
    await sut.handle(batch(0, range(0, 2), 0));
    await sut.handle(batch(7, range(7, 7), 1));
    await sut.drain();
    expect(inserts).toEqual([{ ids: [7], token: 'g:t:1:7-7' }]);
    expect(commits).toEqual(['0@3', '1@8']);
  });

  it('repeats a written-ahead range exactly, whatever the fetch sizes, before batching anew', async () => {
    const { sut, inserts, intents, commits } = setup({
      maxBatchRecords: 4,
      pending: [{ topic: 't', partition: 0, firstOffset: '10', lastOffset: '19', records: 10 }],
    });
    await sut.handle(batch(10, range(10, 14)));
    expect(inserts).toEqual([]); // half the range: not yet, and not under a new token
    await sut.handle(batch(15, range(15, 23)));
    expect(inserts[0]).toEqual({ ids: range(10, 19).map(Number), token: 'g:t:0:10-19' });
    expect(intents[0]).toEqual({
      topic: 't',
      partition: 0,
      firstOffset: '20',
      lastOffset: '23',
      records: 4,
      cycle: 'g:t:0:20-23',
    });
    expect(commits).toEqual(['0@20', '0@24']);
  });

  it('forgets a written-ahead range that was committed after all', async () => {
    const { sut, inserts } = setup({
      pending: [{ topic: 't', partition: 0, firstOffset: '0', lastOffset: '9', records: 10 }],
    });
    await sut.handle(batch(10, range(10, 12)));
    await sut.drain();
    expect(inserts).toEqual([{ ids: [10, 11, 12], token: 'g:t:0:10-12' }]);
  });

  it('ignores records redelivered after a rebalance', async () => {
    const { sut, inserts } = setup();
    await sut.handle(batch(0, range(0, 2)));
    await sut.handle(batch(0, range(0, 4)));
    await sut.drain();
    expect(inserts).toEqual([{ ids: [0, 1, 2, 3, 4], token: 'g:t:0:0-4' }]);
  });

  it('dead-letters what does not decode or validate, and commits past it with the good records', async () => {
    const { sut, inserts, letters, commits } = setup();
    await sut.handle(batch(0, ['1', 'x', '-5', '2']));
    await sut.drain();
    expect(inserts).toEqual([{ ids: [1, 2], token: 'g:t:0:0-3' }]);
    expect(letters.map((l) => [l.offset, l.reason])).toEqual([
      ['1', 'not a number: x'],
      ['2', 'negative'],
    ]);
    expect(commits).toEqual(['0@4']);
  });

  it('commits nothing while inserts fail, then lands the same range under the same token', async () => {
    const { sut, inserts, commits } = setup({ maxBatchRecords: 3, failInserts: 1 });
    await expect(sut.handle(batch(0, range(0, 2)))).rejects.toThrow('clickhouse unavailable');
    expect(commits).toEqual([]);
    expect(sut.failing()).toEqual([{ topic: 't', partition: 0, failures: 1 }]);
    await sut.drain();
    expect(inserts).toEqual([{ ids: [0, 1, 2], token: 'g:t:0:0-2' }]);
    expect(commits).toEqual(['0@3']);
  });

  it('does not wait for a partition committed past its range: idle partitions hold nobody back', async () => {
    const cycle = 'g:t:0:0-2,1:5-6';
    const { sut, inserts, commits } = setup({
      partitions: 2,
      committed: { 0: 3, 1: 7 },
      pending: [
        { topic: 't', partition: 0, firstOffset: '0', lastOffset: '2', records: 3, cycle },
        { topic: 't', partition: 1, firstOffset: '5', lastOffset: '6', records: 2, cycle },
      ],
    });
    await sut.handle(batch(3, range(3, 4), 0)); // partition 1 stays silent
    await sut.drain();
    expect(inserts).toEqual([{ ids: [3, 4], token: 'g:t:0:3-4' }]);
    expect(commits).toEqual(['0@5']);
  });

  it('repeats only the uncommitted ranges of a cycle that landed, without inserting them again', async () => {
    const cycle = 'g:t:0:0-2,1:5-6';
    const { sut, inserts, commits } = setup({
      partitions: 2,
      committed: { 0: 3, 1: 5 },
      pending: [
        { topic: 't', partition: 0, firstOffset: '0', lastOffset: '2', records: 3, cycle },
        { topic: 't', partition: 1, firstOffset: '5', lastOffset: '6', records: 2, cycle },
      ],
    });
    await sut.handle(batch(5, range(5, 7), 1));
    await sut.drain();
    expect(inserts).toEqual([{ ids: [7], token: 'g:t:1:7-7' }]);
    expect(commits).toEqual(['1@7', '1@8']);
  });
  it('with insertPerRange, inserts each partition range as its own block under a token naming that range', async () => {
    const { sut, inserts, intents, commits } = setup({
      maxBatchRecords: 5,
      partitions: 2,
      insertPerRange: true,
    });
    await sut.handle(batch(0, range(0, 1), 1));
    await sut.handle(batch(10, range(10, 12), 0));
    // One write-ahead record for the cycle, each range its own cycle: any member can repeat it alone.
    expect(intents.map((b) => [b.partition, b.firstOffset, b.lastOffset, b.cycle])).toEqual([
      [1, '0', '1', ''],
      [0, '10', '12', ''],
    ]);
    expect(inserts).toEqual([
      { ids: [0, 1], token: 'g:t:1:0-1' },
      { ids: [10, 11, 12], token: 'g:t:0:10-12' },
    ]);
    expect(commits.sort()).toEqual(['0@13', '1@2']);
  });

  it('repeats a written-ahead range of one partition alone, whoever wrote it and whatever else it held', async () => {
    // Another member wrote partitions 0 and 1 ahead (per range) and was killed; this one now holds partition 1.
    const pending = [
      { topic: 't', partition: 0, firstOffset: '0', lastOffset: '3', records: 4, cycle: '' },
      { topic: 't', partition: 1, firstOffset: '5', lastOffset: '7', records: 3, cycle: '' },
    ];
    const { sut, inserts, intents, commits } = setup({ pending, insertPerRange: true, maxBatchRecords: 100 });
    sut.onAssignment([{ topic: 't', partition: 1 }]);
    await sut.handle(batch(5, range(5, 9), 1));
    await sut.drain();
    expect(inserts).toEqual([
      { ids: [5, 6, 7], token: 'g:t:1:5-7' },
      { ids: [8, 9], token: 'g:t:1:8-9' },
    ]);
    expect(intents.map((b) => `${b.partition}:${b.firstOffset}-${b.lastOffset}`)).toEqual(['1:8-9']);
    expect(commits).toEqual(['1@8', '1@10']);
  });

  it('before a rejoin, lands what is buffered and then forms no cycle until the next assignment', async () => {
    const { sut, inserts, commits } = setup({ maxBatchRecords: 100, partitions: 2, insertPerRange: true });
    await sut.handle(batch(0, range(0, 2), 0));
    await sut.revoke();
    expect(inserts).toEqual([{ ids: [0, 1, 2], token: 'g:t:0:0-2' }]);
    expect(commits).toEqual(['0@3']);
    // Fenced: records handed over now belong to whoever holds the partition after the rebalance.
    await sut.handle(batch(3, range(3, 4), 0));
    await sut.drain();
    expect(inserts).toHaveLength(1);
    // After the assignment the partition restarts at its committed offset and flows again.
    sut.onAssignment([{ topic: 't', partition: 0 }]);
    await sut.handle(batch(3, range(3, 4), 0));
    await sut.drain();
    expect(inserts[1]).toEqual({ ids: [3, 4], token: 'g:t:0:3-4' });
    expect(commits).toEqual(['0@3', '0@5']);
  });

  it('a member dropped from its group writes nothing ahead and inserts nothing until its next assignment', async () => {
    const { sut, inserts, intents, commits } = setup({ held: [false], insertPerRange: true });
    await sut.handle(batch(0, range(0, 2), 0));
    await sut.drain();
    expect({ inserts, intents, commits }).toEqual({ inserts: [], intents: [], commits: [] });
    sut.onAssignment([{ topic: 't', partition: 0 }]);
    await sut.handle(batch(0, range(0, 2), 0));
    await sut.drain();
    expect(inserts).toEqual([{ ids: [0, 1, 2], token: 'g:t:0:0-2' }]);
    expect(commits).toEqual(['0@3']);
  });

  it('a member dropped between its write-ahead and its insert leaves the range to the next owner', async () => {
    // Held when asked before the write-ahead, dropped when asked after it.
    const { sut, inserts, intents, commits } = setup({ held: [true, false], insertPerRange: true });
    await sut.handle(batch(0, range(0, 2), 0));
    await sut.drain();
    expect(intents.map((b) => `${b.partition}:${b.firstOffset}-${b.lastOffset}`)).toEqual(['0:0-2']);
    expect({ inserts, commits }).toEqual({ inserts: [], commits: [] });
  });

  it('before a rejoin as a member the group already dropped, lands nothing', async () => {
    const { sut, inserts, intents } = setup({ insertPerRange: true });
    await sut.handle(batch(0, range(0, 2), 0));
    await sut.revoke(true);
    await sut.drain();
    expect({ inserts, intents }).toEqual({ inserts: [], intents: [] });
  });

  it('repeats a written-ahead range as it was even when the partition restarts below it (a lost commit)', async () => {
    // Range 5-7 was written ahead after 0-4 landed, but 0-4's commit never reached the group: offset 0.
    const pending = [{ topic: 't', partition: 0, firstOffset: '5', lastOffset: '7', records: 3, cycle: '' }];
    const { sut, inserts, commits } = setup({ pending, insertPerRange: true, committed: { 0: 0 } });
    await sut.handle(batch(0, range(0, 9), 0));
    await sut.drain();
    expect(inserts).toEqual([
      { ids: [5, 6, 7], token: 'g:t:0:5-7' },
      { ids: [8, 9], token: 'g:t:0:8-9' },
    ]);
    expect(commits).toEqual(['0@8', '0@10']);
  });
});
