import { describe, expect, it } from 'vitest';
import { PartitionOwnership } from './partition-ownership.js';

const records = (...offsets: number[]) => offsets.map((o) => ({ message: { offset: String(o) } }));

describe('PartitionOwnership', () => {
  it('rebuilds every partition gained (the first assignment too) and releases the devices of those lost', () => {
    const ownership = new PartitionOwnership();
    expect(ownership.assign([0, 1, 2])).toEqual({ revoked: [], added: [0, 1, 2] });
    expect([0, 1, 2].map((p) => ownership.needsRebuild(p))).toEqual([true, true, true]);
    ownership.rebuilt(0);
    ownership.rebuilt(1);
    ownership.seen(0, 'a');
    ownership.seen(0, 'b');
    ownership.seen(1, 'c');

    // A member joins: partition 1 moves to it, 3 comes here; 0 stays, state and all.
    expect(ownership.assign([0, 2, 3])).toEqual({ revoked: [1], added: [3] });
    expect(ownership.release(1)).toEqual(['c']);
    expect(ownership.needsRebuild(0)).toBe(false);
    expect(ownership.needsRebuild(3)).toBe(true);
    expect(ownership.owns(1)).toBe(false);
    expect(ownership.deviceCount(0)).toBe(2);
    expect(ownership.stats).toEqual({ partitions: [0, 2, 3], rebuilding: [2, 3] });
  });

  it('skips records of a batch handed over again, deciding per batch by offset', () => {
    const ownership = new PartitionOwnership();
    ownership.assign([0]);
    expect(ownership.firstNew(0, records(10, 11, 12))).toBe(0);
    ownership.advance(0, '12');
    expect(ownership.firstNew(0, records(10, 11, 12))).toBe(3);
    expect(ownership.firstNew(0, records(11, 12, 13, 14))).toBe(2);
    expect(ownership.firstNew(0, records(13))).toBe(0);
    expect(ownership.firstNew(0, [])).toBe(0);
  });

  it('marks a partition for a rebuild when a batch failed half way, and forgets how far it had read', () => {
    const ownership = new PartitionOwnership();
    ownership.assign([0, 1]);
    ownership.rebuilt(0);
    ownership.advance(0, '99');
    ownership.invalidate(0);
    expect(ownership.needsRebuild(0)).toBe(true);
    expect(ownership.firstNew(0, records(50, 51))).toBe(0);
    // A partition no longer owned is not rebuilt: its next owner does that.
    ownership.assign([1]);
    ownership.invalidate(0);
    expect(ownership.needsRebuild(0)).toBe(false);
  });
});
