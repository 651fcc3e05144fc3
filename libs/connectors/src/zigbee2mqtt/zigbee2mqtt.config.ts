import { z } from 'zod';
import { mqttConnectionFields } from '../mqtt/mqtt-connection.config.js';

export const zigbee2mqttConfigSchema = z.strictObject({
  name: z.string(),
  type: z.literal('zigbee2mqtt'),
  ...mqttConnectionFields,
  /** Zigbee2MQTT's `mqtt.base_topic`. */
  baseTopic: z
    .string()
    .regex(/^[^#+]+$/, 'expected a topic without wildcards')
    .refine((t) => !t.endsWith('/'), 'expected no trailing /')
    .default('zigbee2mqtt'),
});

export type Zigbee2mqttConfig = z.infer<typeof zigbee2mqttConfigSchema>;
