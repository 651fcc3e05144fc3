import { writeSync } from 'node:fs';

/**
 * SIGKILLs this process at once, as a crash would (the crash tests' fault hooks), after one log line written
 * synchronously so the test can tell the fault from any other death.
 */
export function killForFaultInjection(fields: Record<string, unknown>, msg: string): void {
  writeSync(2, `${JSON.stringify({ level: 'warn', ...fields, msg })}\n`);
  process.kill(process.pid, 'SIGKILL');
}
