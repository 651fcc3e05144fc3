import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import { configuredLogLevel } from './observability.config.js';

export type { Logger } from 'pino';

/**
 * One JSON line per event on stderr, so that stdout carries only what a command reports (tables, figures,
 * a banner) and can be piped. The level comes from the observability config section (`SENTIO_LOG_LEVEL`)
 * unless the caller sets one, so scripts and tests can quiet it.
 */
export function createLogger(service: string, level: string = configuredLogLevel()): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}

/** Routes Nest's own log calls into the same JSON stream. */
export class NestJsonLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}

/**
 * Process warnings become JSON log lines instead of stderr text. KafkaJS 2.2.4 schedules a timer with a
 * negative delay on every request queue check, which Node 24 reports as TimeoutNegativeWarning; Node clamps
 * it to 1 ms, which is what KafkaJS meant, so that one is dropped.
 */
export function routeProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return;
    logger.warn({ warning: warning.name, stack: warning.stack }, warning.message);
  });
}
