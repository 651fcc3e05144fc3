import { configFields, defineConfigSection } from '@sentio/config';
import { z } from 'zod';

export const otlpConfigSection = defineConfigSection(
  'otlp',
  z.object({
    host: z.string().min(1).default('127.0.0.1'),
    /** 4318 is OTLP/HTTP's registered port, where every SDK's exporter looks by default. */
    port: configFields.port().default(4318),
    /** Applies to the body as sent and again after gzip, so a small compressed bomb is refused too. */
    maxBodyBytes: configFields.positiveInt().default(16 * 1024 * 1024),
    /**
     * Attributes naming the device, tried in order on the item (data point, log record, span), then on its
     * resource. Samples and log records need one; spans without one are keyed by trace id.
     */
    deviceIdAttributes: configFields.list().default(['device.id', 'host.name']),
  }),
  {
    host: 'OTLP_HTTP_HOST',
    port: 'OTLP_HTTP_PORT',
    maxBodyBytes: 'OTLP_MAX_BODY_BYTES',
    deviceIdAttributes: 'OTLP_DEVICE_ID_ATTRIBUTES',
  },
);

export type OtlpConfig = z.infer<typeof otlpConfigSection.schema>;
