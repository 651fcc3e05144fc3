import { defineConfigSection, loadConfig } from '@sentio/config';
import { z } from 'zod';

export const observabilityConfigSection = defineConfigSection(
  'observability',
  z.object({
    /** pino level of every JSON log line; scripts and tests quiet it with `warn` or `silent`. */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }),
  { logLevel: 'SENTIO_LOG_LEVEL' },
);

export type ObservabilityConfig = z.infer<typeof observabilityConfigSection.schema>;

/**
 * The log level from this section alone, for loggers made before the whole configuration is loaded (the
 * process's first logger reports the configuration's problems). A bad value falls back to `info` here;
 * loading the whole configuration then names it.
 */
export function configuredLogLevel(env: NodeJS.ProcessEnv = process.env): ObservabilityConfig['logLevel'] {
  try {
    return loadConfig([observabilityConfigSection], { env }).observability.logLevel;
  } catch {
    return 'info';
  }
}
