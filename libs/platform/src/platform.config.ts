import { configFields, defineConfigSection } from '@sentio/config';
import { z } from 'zod';

export const platformConfigSection = defineConfigSection(
  'platform',
  z.object({
    /** Components this process runs: `all`, or a list such as `ingest,detectors`. */
    targets: configFields.list().default(['all']),
    httpHost: z.string().default('127.0.0.1'),
    httpPort: configFields.port().default(8080),
  }),
  { targets: 'SENTIO_TARGETS', httpHost: 'SENTIO_HTTP_HOST', httpPort: 'SENTIO_HTTP_PORT' },
);

export type PlatformConfig = z.infer<typeof platformConfigSection.schema>;
