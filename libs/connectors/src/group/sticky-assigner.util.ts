import kafkajs, { type PartitionAssigner } from 'kafkajs';

const { AssignerProtocol } = kafkajs;

export const STICKY_SLOTS_PROTOCOL = 'SentioStickySlots';

/**
 * A group member's claim: the slots it reads now, sent with every JoinGroup so the leader keeps them where
 * they are. Balanced (each member gets floor or ceil of slots / members) and sticky: a slot moves only
 * when its member left or holds more than its share, so a member's death moves only its own slots, onto
 * the survivors, and never swaps devices between live members (KafkaJS's round robin reshuffles every
 * slot on every rebalance, because member ids are random).
 */
export function planSticky(
  slots: number[],
  members: Array<{ memberId: string; owned: number[] }>,
): Map<string, number[]> {
  const ids = members.map((m) => m.memberId).sort();
  const plan = new Map<string, number[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return plan;
  const base = Math.floor(slots.length / ids.length);
  let bigger = slots.length % ids.length; // members that may hold base + 1
  const valid = new Set(slots);
  const taken = new Set<number>();
  // Keep what members already hold, the largest holders trimmed to their share.
  const byClaim = [...members].sort(
    (a, b) => b.owned.length - a.owned.length || a.memberId.localeCompare(b.memberId),
  );
  for (const member of byClaim) {
    const keep = member.owned.filter((s) => valid.has(s) && !taken.has(s)).sort((a, b) => a - b);
    let cap = base;
    if (bigger > 0 && keep.length > base) {
      cap = base + 1;
      bigger--;
    }
    for (const slot of keep.slice(0, cap)) {
      plan.get(member.memberId)!.push(slot);
      taken.add(slot);
    }
  }
  // The rest to the members with the fewest, each up to its share.
  for (const slot of slots) {
    if (taken.has(slot)) continue;
    const target = ids.reduce((best, id) => (plan.get(id)!.length < plan.get(best)!.length ? id : best));
    plan.get(target)!.push(slot);
    taken.add(slot);
  }
  for (const list of plan.values()) list.sort((a, b) => a - b);
  return plan;
}

/** The slots a member said it held when it joined (its JoinGroup metadata). */
export function claimedSlots(memberMetadata: Buffer): number[] {
  try {
    const data = AssignerProtocol.MemberMetadata.decode(memberMetadata)?.userData;
    const parsed: unknown = JSON.parse(data?.toString() || '[]');
    return Array.isArray(parsed) ? parsed.filter((n): n is number => Number.isInteger(n)) : [];
  } catch {
    // A member of another version or tool: it claims nothing and gets its share.
    return [];
  }
}

/** The KafkaJS assigner around `planSticky`; `owned` gives this member's current slots for its claim. */
export function stickySlotsAssigner(owned: () => number[]): PartitionAssigner {
  return ({ cluster }) => ({
    name: STICKY_SLOTS_PROTOCOL,
    version: 1,
    protocol: ({ topics }) => ({
      name: STICKY_SLOTS_PROTOCOL,
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 1,
        topics,
        userData: Buffer.from(JSON.stringify(owned())),
      }),
    }),
    assign: async ({ members, topics }) => {
      // One coordination topic per group: its partitions are the slots.
      const topic = topics[0]!;
      await cluster.refreshMetadataIfNecessary();
      const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
      const claims = members.map((m) => ({ memberId: m.memberId, owned: claimedSlots(m.memberMetadata) }));
      const plan = planSticky(partitions, claims);
      return members.map((m) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: { [topic]: plan.get(m.memberId) ?? [] },
          userData: Buffer.alloc(0),
        }),
      }));
    },
  });
}
