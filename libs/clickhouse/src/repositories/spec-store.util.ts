import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@sentio/observability';
import { ClickHouseStore } from '../clickhouse-store.js';
import { migrate } from '../migrations.js';

/**
 * A migrated embedded ClickHouse in a folder of its own, for the specs of one repository file: the real
 * engine and the real tables, so a query's SQL is checked against what the migrations created. One per spec
 * file (the engine binds one data folder per process, and each spec file runs in a process of its own).
 */
export async function openSpecStore(name: string): Promise<ClickHouseStore> {
  const logger = createLogger('test', 'warn');
  const store = ClickHouseStore.open(
    {
      path: mkdtempSync(join(tmpdir(), `sentio-${name}-`)),
      database: name.replace(/-/g, '_'),
      username: 'default',
      password: '',
    },
    logger,
  );
  await migrate(store, logger);
  return store;
}
