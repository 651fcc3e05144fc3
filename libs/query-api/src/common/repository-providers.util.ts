import type { Provider } from '@nestjs/common';
import { ClickHouseStore } from '@sentio/clickhouse';

/** Repositories of libs/clickhouse are plain classes over the store: each feature provides the ones it reads. */
export function repositoryProviders(
  ...repositories: Array<new (store: ClickHouseStore) => object>
): Provider[] {
  return repositories.map((repository) => ({
    provide: repository,
    inject: [ClickHouseStore],
    useFactory: (store: ClickHouseStore) => new repository(store),
  }));
}
