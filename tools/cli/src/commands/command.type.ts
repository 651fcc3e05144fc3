export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Resolves with the exit code; long-running commands resolve when they are stopped. */
  run(argv: string[]): Promise<number>;
}
