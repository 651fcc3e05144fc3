import { alertingConfigSection } from '@sentio/alerting';
import { avroConfigSection } from '@sentio/avro';
import { clickHouseConfigSection } from '@sentio/clickhouse';
import { connectorsConfigSection } from '@sentio/connectors';
import { detectorsConfigSection } from '@sentio/detectors';
import { loadConfig, type ConfigOf, type LoadConfigOptions } from '@sentio/config';
import { ingestConfigSection } from '@sentio/ingest';
import { kafkaConfigSection } from '@sentio/kafka';
import { observabilityConfigSection } from '@sentio/observability';
import { otlpConfigSection } from '@sentio/otlp';
import { queryApiConfigSection } from '@sentio/query-api';
import { replayConfigSection } from '@sentio/replay';
import { platformConfigSection } from './platform.config.js';

/** The root configuration: every lib's section, validated together at start. */
export const sentioSections = [
  platformConfigSection,
  observabilityConfigSection,
  kafkaConfigSection,
  avroConfigSection,
  clickHouseConfigSection,
  connectorsConfigSection,
  detectorsConfigSection,
  ingestConfigSection,
  otlpConfigSection,
  alertingConfigSection,
  queryApiConfigSection,
  replayConfigSection,
] as const;

export type SentioConfig = ConfigOf<typeof sentioSections>;

export function loadSentioConfig(options?: LoadConfigOptions): SentioConfig {
  return loadConfig(sentioSections, options);
}
