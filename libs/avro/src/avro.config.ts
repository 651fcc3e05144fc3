import { defineConfigSection } from '@sentio/config';
import { z } from 'zod';

export const avroConfigSection = defineConfigSection(
  'avro',
  z.object({
    /** Any Confluent-compatible schema registry. */
    registryUrl: z.string().url().default('http://127.0.0.1:8081/apis/ccompat/v7'),
  }),
  { registryUrl: 'SCHEMA_REGISTRY_URL' },
);

export type AvroConfig = z.infer<typeof avroConfigSection.schema>;
