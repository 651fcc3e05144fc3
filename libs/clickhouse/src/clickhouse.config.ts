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
    /**
     * A `remote_servers` cluster of the server: migrations render for it (ON CLUSTER, Replicated tables on
     * every shard, Distributed tables under the usual names). Needs `url`; unset means one node.
     */
    cluster: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'expected a cluster name: letters, digits, _ or -')
      .optional(),
  }),
  {
    url: 'CLICKHOUSE_URL',
    username: 'CLICKHOUSE_USER',
    password: 'CLICKHOUSE_PASSWORD',
    path: 'SENTIO_CLICKHOUSE_PATH',
    database: 'CLICKHOUSE_DATABASE',
    cluster: 'CLICKHOUSE_CLUSTER',
  },
);

export type ClickHouseConfig = z.infer<typeof clickHouseConfigSection.schema>;
