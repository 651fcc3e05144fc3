import kafkajs, { type PartitionAssigner } from 'kafkajs';

const { AssignerProtocol } = kafkajs;

/**
 * Gives each member the same partition numbers of every subscribed topic. The inputs (telemetry,
 * anomalies, forecasts, logs) are all keyed by device id with the same partition count, so one device's
 * events of every kind meet in one member, where that device's alert state lives.
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'SentioCoPartitioned',
  version: 0,
  async assign({ members, topics }) {
    const memberIds = members.map((m) => m.memberId).sort();
    const assignment: Record<string, Record<string, number[]>> = {};
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const member = memberIds[partitionId % memberIds.length]!;
        ((assignment[member] ??= {})[topic] ??= []).push(partitionId);
      }
    }
    return Object.entries(assignment).map(([memberId, a]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: a,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: 'SentioCoPartitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});
