import { defineConfigSection } from '@sentio/config';
import { z } from 'zod';

export const clickHouseConfigSection = defineConfigSection(
  'clickhouse',
  z.object({
    /** A ClickHouse server over HTTP; unset means the embedded chdb engine. */
    url: z.string().url().optional(),
    username: z.string().default('default'),
    password: z.string().default(''),
    /** Data folder of the embedded engine (one process at a time may open it). */
    path: z.string().min(1).default('.sentio/clickhouse'),
    database: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'expected a lowercase identifier: letters, digits and _')
      .default('sentio'),
  }),
  {
    url: 'CLICKHOUSE_URL',
    username: 'CLICKHOUSE_USER',
    password: 'CLICKHOUSE_PASSWORD',
    path: 'SENTIO_CLICKHOUSE_PATH',
    database: 'CLICKHOUSE_DATABASE',
  },
);

export type ClickHouseConfig = z.infer<typeof clickHouseConfigSection.schema>;
