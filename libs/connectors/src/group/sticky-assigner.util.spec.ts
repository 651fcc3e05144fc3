import { describe, expect, it } from 'vitest';
import { ownershipOf, slotOf } from './device-slots.util.js';
import { planSticky } from './sticky-assigner.util.js';

const slots = Array.from({ length: 10 }, (_, i) => i);
const sizes = (plan: Map<string, number[]>) => [...plan.values()].map((s) => s.length).sort();
const all = (plan: Map<string, number[]>) => [...plan.values()].flat().sort((a, b) => a - b);

describe('planSticky', () => {
  it('gives every slot to exactly one member, balanced', () => {
    const plan = planSticky(slots, [
      { memberId: 'a', owned: [] },
      { memberId: 'b', owned: [] },
      { memberId: 'c', owned: [] },
    ]);
    expect(all(plan)).toEqual(slots);
    expect(sizes(plan)).toEqual([3, 3, 4]);
  });

  it("moves only a dead member's slots, onto the survivors", () => {
    const before = { a: [0, 1, 2], b: [3, 4, 5], c: [6, 7, 8, 9] };
    const plan = planSticky(slots, [
      { memberId: 'a', owned: before.a },
      { memberId: 'c', owned: before.c },
    ]);
    expect(all(plan)).toEqual(slots);
    expect(plan.get('a')).toEqual(expect.arrayContaining(before.a));
    expect(plan.get('c')).toEqual(expect.arrayContaining(before.c));
    expect(sizes(plan)).toEqual([5, 5]);
  });

  it('hands a joining member its share from the largest holders only', () => {
    const plan = planSticky(slots, [
      { memberId: 'a', owned: [0, 1, 2, 3, 4] },
      { memberId: 'b', owned: [5, 6, 7, 8, 9] },
      { memberId: 'z', owned: [] },
    ]);
    expect(all(plan)).toEqual(slots);
    expect(sizes(plan)).toEqual([3, 3, 4]);
    for (const id of ['a', 'b']) {
      const kept = plan.get(id)!;
      expect(kept.every((s) => (id === 'a' ? s < 5 : s >= 5))).toBe(true);
    }
  });

  it('ignores claims on slots that do not exist or that another member already kept', () => {
    const plan = planSticky(slots, [
      { memberId: 'a', owned: [0, 1, 42] },
      { memberId: 'b', owned: [1, 2] },
    ]);
    expect(all(plan)).toEqual(slots);
    expect(sizes(plan)).toEqual([5, 5]);
  });
});

describe('device slots', () => {
  it('are stable and spread devices over the slots', () => {
    expect(slotOf('line-1', 'pump-01', 60)).toBe(slotOf('line-1', 'pump-01', 60));
    const used = new Set(Array.from({ length: 600 }, (_, i) => slotOf('line-1', `dev-${i}`, 60)));
    expect(used.size).toBe(60);
  });

  it('partition the devices between members that split the slots', () => {
    const owns = [ownershipOf(new Set([0, 1, 2]), 6), ownershipOf(new Set([3, 4, 5]), 6)];
    for (let i = 0; i < 100; i++)
      expect(owns.filter((o) => o('line-1', `dev-${i}`)).length, `dev-${i}`).toBe(1);
  });
});
