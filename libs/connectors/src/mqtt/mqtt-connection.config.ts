import { existsSync } from 'node:fs';
import { z } from 'zod';
import { reconnectSchema } from '../common/reconnect.config.js';

const file = z.string().refine((path) => existsSync(path), 'expected a readable file');

/** Broker connection settings shared by every MQTT-based connector. */
export const mqttConnectionFields = {
  url: z.string().regex(/^(mqtts?|wss?):\/\/[^/\s]+/, 'expected an mqtt://, mqtts://, ws:// or wss:// URL'),
  /** 4 = MQTT 3.1.1, 5 = MQTT 5. */
  protocolVersion: z
    .union([z.literal(4), z.literal(5)], { error: 'expected 4 (MQTT 3.1.1) or 5' })
    .default(5),
  /** Fixed, so the broker keeps this connector's session (and queues for it) across restarts. */
  clientId: z.string().min(1).max(128).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  qos: z.union([z.literal(0), z.literal(1)], { error: 'expected 0 or 1' }).default(1),
  keepaliveSeconds: z.number().int().min(0).max(65535).default(30),
  /**
   * Messages with Kafka at once, acknowledged to the broker in arrival order as they get through: one
   * produce round trip is shared by a window's worth. For MQTT 5 also the Receive Maximum we announce.
   */
  maxInFlight: z.number().int().min(1).max(65535).default(100),
  /** MQTT 5 only: how long the broker keeps the session (and queues) while the connector is away. */
  sessionExpirySeconds: z
    .number()
    .int()
    .min(0)
    .max(0xffffffff)
    .default(7 * 24 * 3600),
  tls: z
    .strictObject({
      ca: file.optional(),
      cert: file.optional(),
      key: file.optional(),
      rejectUnauthorized: z.boolean().default(true),
    })
    .optional(),
  /**
   * The largest message taken: a larger one is acknowledged and dead-lettered with its first
   * `deadLetterPayloadBytes`, size and SHA-256 (it would not fit in a Kafka record, and redelivery
   * would only bring it back).
   */
  maxPayloadBytes: z
    .number()
    .int()
    .min(1)
    .max(256 * 1024 * 1024)
    .default(1024 * 1024),
  /** How much of an oversized message its dead letter keeps. */
  deadLetterPayloadBytes: z
    .number()
    .int()
    .min(0)
    .max(512 * 1024)
    .default(4096),
  reconnect: reconnectSchema,
  labels: z.record(z.string(), z.string()).default({}),
};

export type MqttConnectionConfig = z.infer<z.ZodObject<typeof mqttConnectionFields>>;
