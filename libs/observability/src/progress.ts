import type { Logger } from 'pino';

export interface ProgressReporter {
  /** Adds to the done count; logs at most once per interval. */
  advance(count: number): void;
  done(): void;
}

/**
 * Long jobs (replays, backfills, benchmarks, training) report progress as JSON log lines: done, total,
 * percentage, rate and an estimate of the time left.
 */
export function progressReporter(
  logger: Logger,
  task: string,
  total?: number,
  intervalMs = 2000,
): ProgressReporter {
  const started = performance.now();
  let done = 0;
  let lastLog = started;
  const report = (final: boolean) => {
    const elapsedS = (performance.now() - started) / 1000;
    const rate = elapsedS > 0 ? done / elapsedS : 0;
    const percent = total ? Math.min(100, (100 * done) / total) : undefined;
    const etaS = total && rate > 0 ? Math.max(0, (total - done) / rate) : undefined;
    logger.info(
      {
        task,
        done,
        total,
        percent: percent?.toFixed(1),
        ratePerS: Math.round(rate),
        etaS: etaS?.toFixed(1),
        elapsedS: elapsedS.toFixed(1),
      },
      final ? `${task}: finished` : `${task}: progress`,
    );
  };
  return {
    advance(count) {
      done += count;
      const now = performance.now();
      if (now - lastLog >= intervalMs) {
        lastLog = now;
        report(false);
      }
    },
    done() {
      report(true);
    },
  };
}
