import { loadConfig } from '@sentio/config';
import { kafkaConfigSection } from '@sentio/kafka';
import { createLogger } from '@sentio/observability';
import { schemaRegistryConfig, startSchemaRegistry } from '@sentio/schema-registry';
import type { Command } from './command.type.js';

export const registryCommand: Command = {
  name: 'registry',
  summary: 'Run the Confluent-compatible schema registry (state in the compacted _schemas topic).',
  usage: '',
  async run() {
    const config = loadConfig([kafkaConfigSection, schemaRegistryConfig]);
    const logger = createLogger('schema-registry');
    const registry = await startSchemaRegistry({
      brokers: config.kafka.brokers,
      port: config.schemaRegistry.port,
      host: config.schemaRegistry.host,
      topic: config.schemaRegistry.topic,
      logger,
    });
    logger.info({ url: registry.url }, 'schema registry listening');
    return new Promise<number>((resolve) => {
      const stop = () => void registry.close().then(() => resolve(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  },
};
