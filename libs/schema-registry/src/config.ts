import { configFields, defineConfigSection } from '@sentio/config';
import { z } from 'zod';

export const schemaRegistryConfig = defineConfigSection(
  'schemaRegistry',
  z.object({
    port: configFields.port().default(8081),
    host: z.string().min(1).default('127.0.0.1'),
    topic: z.string().min(1).default('_schemas'),
  }),
  { port: 'SENTIO_REGISTRY_PORT', host: 'SENTIO_REGISTRY_HOST', topic: 'SENTIO_REGISTRY_TOPIC' },
);

export type SchemaRegistryConfig = z.infer<typeof schemaRegistryConfig.schema>;
