import type { Logger } from '@sentio/observability';

export interface LeadershipHandlers {
  /** Became the one dispatcher: catch up with what the previous one wrote, then route. */
  acquired(): Promise<void>;
  /** Lost it (its evaluation partition moved, or was fenced): stop notifying at once. */
  released(): Promise<void> | void;
}

/**
 * Exactly one alerting process dispatches notifications; the others keep their alerts and notification log
 * current and wait. Grouping needs every alert of a group in one place and groups span partitions, so
 * notifications are not split across members the way evaluation is. The dispatcher is the member that
 * evaluates input partition 0: the evaluation group's assignment (and its per-partition fencing) already
 * elects exactly one live owner, and moves it within a session timeout when that member dies.
 *
 * Changes are applied one at a time, in order; a change overtaken by a newer one is skipped.
 */
export class DispatchLeadership {
  private leader = false;
  private changing: Promise<void> = Promise.resolve();

  constructor(
    private readonly handlers: LeadershipHandlers,
    private readonly logger: Logger,
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  set(leader: boolean, reason: string): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.logger.info({ leader, reason }, 'dispatch leadership');
    this.changing = this.changing
      .then(async () => {
        if (this.leader !== leader) return;
        if (leader) await this.handlers.acquired();
        else await this.handlers.released();
      })
      .catch((error: unknown) => {
        this.logger.fatal({ err: error }, 'dispatch leadership change failed; exiting');
        process.exit(70);
      });
  }

  async stop(): Promise<void> {
    this.set(false, 'stopping');
    await this.changing;
  }
}
