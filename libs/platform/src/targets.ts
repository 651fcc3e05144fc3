import type { DynamicModule } from '@nestjs/common';
import { AlertingApiModule, AlertingModule } from '@sentio/alerting';
import { ConnectorsModule } from '@sentio/connectors';
import { DetectorsModule } from '@sentio/detectors';
import { IngestModule } from '@sentio/ingest';
import type { Logger } from '@sentio/observability';
import { OtlpModule } from '@sentio/otlp';
import { QueryApiModule } from '@sentio/query-api';
import { ReplayModule } from '@sentio/replay';
import type { SentioConfig } from './sentio-config.js';

export interface Target {
  /** Reads or writes ClickHouse: with the embedded engine, all such targets must share one process. */
  usesClickHouse: boolean;
  module(config: SentioConfig, logger: Logger): DynamicModule;
}

/**
 * The components a process can run. The all-in-one process is the union of the same modules that the split
 * apps run one by one; no module knows which layout it is in. Consumer group ids come from each component's
 * own config, so switching layout keeps offsets.
 */
export const targets = {
  connectors: { usesClickHouse: false, module: (config) => ConnectorsModule.forRoot(config.connectors) },
  detectors: { usesClickHouse: false, module: (config) => DetectorsModule.forRoot(config.detectors) },
  ingest: { usesClickHouse: true, module: (config) => IngestModule.forRoot(config.ingest) },
  otlp: { usesClickHouse: false, module: (config) => OtlpModule.forRoot(config.otlp) },
  alerting: { usesClickHouse: false, module: (config) => AlertingModule.forRoot(config.alerting) },
  api: {
    usesClickHouse: true,
    // The query API plus the feature modules of other components that serve through it (alerting).
    module: (config, logger) => {
      const api = QueryApiModule.forRoot(config.queryApi, logger);
      return { ...api, imports: [...(api.imports ?? []), AlertingApiModule.forRoot(config.alerting)] };
    },
  },
  // In the process that writes ClickHouse: a swap holds live ingest's writes to the family for its last step.
  replay: {
    usesClickHouse: true,
    module: (config) => ReplayModule.forRoot(config.replay, config.ingest.groupId, config.detectors),
  },
} satisfies Record<string, Target>;

export type TargetName = keyof typeof targets;

export function resolveTargets(requested: readonly string[]): TargetName[] {
  if (requested.includes('all')) return Object.keys(targets) as TargetName[];
  const unknown = requested.filter((t) => !(t in targets));
  if (unknown.length > 0) {
    throw new Error(
      `unknown target(s) ${unknown.join(', ')}: expected all or any of ${Object.keys(targets).join(', ')}`,
    );
  }
  return requested as TargetName[];
}
