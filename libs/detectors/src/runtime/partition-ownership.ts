/**
 * Which telemetry partitions this detector process owns in its consumer group, which devices it has seen
 * on each, and how far it has read each one. A device's records all land on one partition (telemetry is
 * keyed by device), so its window state belongs to that partition and moves with it on a rebalance:
 * - a partition that stays owned keeps its devices' state; records the consumer hands over again after a
 *   rebalance (a commit that did not land) are recognised by offset and skipped, so no sample counts twice;
 * - a revoked partition's devices are released, so stale state never meets the partition again;
 * - a newly owned partition is rebuilt before its first record is scored (see `partition-replay.ts`).
 */
export class PartitionOwnership {
  private owned = new Set<number>();
  private readonly devices = new Map<number, Set<string>>();
  /** Offset of the last record taken into state, per owned partition. */
  private readonly lastOffset = new Map<number, bigint>();
  /** Owned partitions whose state must be rebuilt before their next record is scored. */
  private readonly pending = new Set<number>();
  private assignments = 0;

  /**
   * Takes the group's new assignment of the topic. Returns the partitions lost (whose devices the caller
   * releases) and those gained. The first assignment of the process rebuilds too: the partitions' committed
   * offsets may be past records whose windows were still open when the previous owner stopped.
   */
  assign(partitions: readonly number[]): { revoked: number[]; added: number[] } {
    const next = new Set(partitions);
    const revoked = [...this.owned].filter((p) => !next.has(p));
    const added = [...next].filter((p) => !this.owned.has(p));
    for (const p of revoked) {
      this.lastOffset.delete(p);
      this.pending.delete(p);
    }
    for (const p of added) this.pending.add(p);
    this.owned = next;
    this.assignments++;
    return { revoked, added };
  }

  /** How many assignments this process has taken (rebalances it went through, plus one). */
  get generations(): number {
    return this.assignments;
  }

  owns(partition: number): boolean {
    return this.owned.has(partition);
  }

  /** Whether the partition's state must be rebuilt before its next record; cleared by `rebuilt`. */
  needsRebuild(partition: number): boolean {
    return this.pending.has(partition);
  }

  rebuilt(partition: number): void {
    this.pending.delete(partition);
  }

  /**
   * Index of the first record new to this process's state of its partition: records before it were
   * handed over a second time. Records come in offset order, so one comparison settles a whole batch.
   */
  firstNew(partition: number, records: ReadonlyArray<{ message: { offset: string } }>): number {
    const last = this.lastOffset.get(partition);
    if (last === undefined || records.length === 0 || BigInt(records[0]!.message.offset) > last) return 0;
    let i = 0;
    while (i < records.length && BigInt(records[i]!.message.offset) <= last) i++;
    return i;
  }

  /**
   * The partition's state can no longer be trusted (a batch failed half way: some of its windows were
   * taken into state but their results never sent): rebuild it before the redelivered records.
   */
  invalidate(partition: number): void {
    this.lastOffset.delete(partition);
    if (this.owned.has(partition)) this.pending.add(partition);
  }

  /** Records that state now includes the partition's records up to `offset`. */
  advance(partition: number, offset: string): void {
    this.lastOffset.set(partition, BigInt(offset));
  }

  /** Notes that a device reports on a partition (telemetry is keyed by device: it keeps reporting there). */
  seen(partition: number, deviceId: string): void {
    let set = this.devices.get(partition);
    if (!set) this.devices.set(partition, (set = new Set()));
    set.add(deviceId);
  }

  /** Forgets the devices of a partition and returns them, for the caller to release their state. */
  release(partition: number): string[] {
    const ids = [...(this.devices.get(partition) ?? [])];
    this.devices.delete(partition);
    return ids;
  }

  deviceCount(partition: number): number {
    return this.devices.get(partition)?.size ?? 0;
  }

  /** Owned partitions, and those waiting for their rebuild, for /health. */
  get stats(): { partitions: number[]; rebuilding: number[] } {
    return {
      partitions: [...this.owned].sort((a, b) => a - b),
      rebuilding: [...this.pending].sort((a, b) => a - b),
    };
  }
}
