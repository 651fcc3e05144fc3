import { createRequire } from 'node:module';

/**
 * KafkaJS 2.2.4 (its last release) groups a send's messages per partition by copying the partition's array
 * for every message, which is quadratic: 10,000 messages in one request cost ~100 ms of CPU, most of the
 * producer's time here. Upstream's fix (tulios/kafkajs#1576, linear grouping) was never released, so the
 * module is replaced before KafkaJS loads it; behaviour is the same, partitioner calls and order included.
 * Imported for its effect by kafka-client.ts, ahead of kafkajs itself.
 */
type Partitioner = (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;

function groupMessagesPerPartition({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: Partitioner;
}): Record<number, unknown[]> {
  const result: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

const require = createRequire(import.meta.url);
const path = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
require(path);
const cached = require.cache[path];
if (!cached) throw new Error(`kafkajs patch: ${path} is not in the module cache`);
cached.exports = groupMessagesPerPartition;

/**
 * KafkaJS's offset manager keeps the broker that was the group coordinator when the generation started and,
 * once that broker's connection is gone, looks the same node id up again: after the coordinator broker dies
 * and leaves the metadata, that throws KafkaJSBrokerNotFound, which the commit's retry treats as fatal and
 * the consumer crashes and restarts under a new member id (found by killing a cluster's coordinator under
 * the detectors' scale test). The group moved to another broker: ask the cluster who coordinates it now.
 */
interface OffsetManagerInternals {
  groupId: string;
  coordinator: unknown;
  cluster: { findGroupCoordinator(request: { groupId: string }): Promise<unknown> };
  getCoordinator(): Promise<unknown>;
}
const offsetManagerPath = require.resolve('kafkajs/src/consumer/offsetManager/index.js');
const OffsetManager = require(offsetManagerPath) as { prototype: OffsetManagerInternals };
const getCoordinator = OffsetManager.prototype.getCoordinator;
OffsetManager.prototype.getCoordinator = async function (this: OffsetManagerInternals) {
  try {
    return await getCoordinator.call(this);
  } catch (error) {
    if ((error as Error).name !== 'KafkaJSBrokerNotFound') throw error;
    this.coordinator = await this.cluster.findGroupCoordinator({ groupId: this.groupId });
    return this.coordinator;
  }
};

/**
 * KafkaJS has no "partitions revoked" callback: when a rebalance starts, a member rejoins at once, while its
 * own work on the partitions it is about to lose (an ingest flush) may still run, so the next owner could
 * read them alongside it. Every rejoin of a group member (not its first join) goes through
 * `ConsumerGroup.joinAndSync`; hooks registered for the group run before it, and the group's rebalance waits
 * for the member's JoinGroup (up to the rebalance timeout), so nobody else is assigned the partitions until
 * the hooks are done. Offsets committed meanwhile are accepted (the group is preparing the rebalance).
 *
 * Not so for a member the coordinator has already dropped (its session expired: KafkaJS clears its member
 * id before rejoining): its partitions may be another member's already, so the hooks are told `removed`.
 */
type RejoinHook = (removed: boolean) => Promise<void>;
const rejoinHooks = new Map<string, Set<RejoinHook>>();

interface ConsumerGroupInternals {
  groupId: string;
  generationId: number | null;
  memberId: string | null;
  coordinator: {
    heartbeat(request: { groupId: string; memberId: string; groupGenerationId: number }): Promise<unknown>;
  } | null;
  /** Built by each SyncGroup with that generation's member id and generation id, which its commits carry. */
  offsetManager: {
    commitOffsets(offsets: {
      topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
    }): Promise<void>;
  } | null;
  joinAndSync(): Promise<void>;
}

/**
 * Each joined member's group and the generation its last completed join (JoinGroup and SyncGroup) gave it,
 * by member id: what `confirmMember` asks the coordinator about.
 */
const joined = new Map<
  string,
  {
    group: ConsumerGroupInternals;
    generation: number;
    offsets: NonNullable<ConsumerGroupInternals['offsetManager']>;
  }
>();

const consumerGroupPath = require.resolve('kafkajs/src/consumer/consumerGroup.js');
const ConsumerGroup = require(consumerGroupPath) as { prototype: ConsumerGroupInternals };
const joinAndSync = ConsumerGroup.prototype.joinAndSync;
ConsumerGroup.prototype.joinAndSync = async function (this: ConsumerGroupInternals) {
  const hooks = rejoinHooks.get(this.groupId);
  // A generation means partitions were held: this is a rejoin, not the first join.
  if (hooks && this.generationId !== null && this.generationId !== undefined) {
    const removed = this.memberId === null;
    for (const hook of hooks) await hook(removed);
  }
  const before = this.memberId;
  await joinAndSync.call(this);
  if (before && before !== this.memberId) joined.delete(before);
  if (this.memberId && this.generationId !== null && this.offsetManager) {
    joined.set(this.memberId, { group: this, generation: this.generationId, offsets: this.offsetManager });
  }
};

/** Runs `hook` before each rejoin of this process's members of `groupId`; returns the unregister function. */
export function beforeRejoin(groupId: string, hook: RejoinHook): () => void {
  let hooks = rejoinHooks.get(groupId);
  if (!hooks) rejoinHooks.set(groupId, (hooks = new Set()));
  hooks.add(hook);
  return () => hooks.delete(hook);
}

const lostMembership = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID']);

/**
 * Asks the group coordinator (a heartbeat of the generation of the member's last completed join, whatever
 * KafkaJS's own heartbeat schedule) whether `memberId` still holds the assignment that join gave it. True
 * also while a rebalance is being prepared: the member is still in the group and nobody else gets its
 * partitions before it rejoins. False once the coordinator dropped it or moved to another generation, and
 * once the member itself has sent its JoinGroup (KafkaJS takes the new generation from the JoinGroup
 * answer; others may be assigned its partitions from then on). Anything else (the coordinator moving, the
 * network) is thrown: not known either way.
 */
export async function confirmMember(memberId: string): Promise<boolean> {
  const member = joined.get(memberId);
  if (!member) return false;
  const { group, generation } = member;
  if (group.memberId !== memberId || group.generationId !== generation || !group.coordinator) return false;
  try {
    await group.coordinator.heartbeat({ groupId: group.groupId, memberId, groupGenerationId: generation });
    return true;
  } catch (error) {
    const { type, cause } = error as { type?: string; cause?: { type?: string } };
    const code = type ?? cause?.type;
    if (code === 'REBALANCE_IN_PROGRESS') return true;
    if (code !== undefined && lostMembership.has(code)) return false;
    throw error;
  }
}

/**
 * Commits `nextOffset` of one partition as the member of the generation its last completed join gave it, so
 * the coordinator refuses it (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID) once that assignment is gone. The
 * consumer's own `commitOffsets` does neither: it returns without committing while KafkaJS restarts its
 * runner (after a crash), and its retries send the commit under whatever generation the member has by then,
 * which can move the partition's new owner's offset back.
 */
export async function commitAsMember(
  memberId: string,
  topic: string,
  partition: number,
  nextOffset: string,
): Promise<void> {
  const member = joined.get(memberId);
  if (!member)
    throw new Error(`member ${memberId} holds no assignment: commit of ${topic}:${partition} refused`);
  await member.offsets.commitOffsets({
    topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }],
  });
}

/** Forgets a member that left its group (the consumer stopped). */
export function forgetMember(memberId: string): void {
  joined.delete(memberId);
}
