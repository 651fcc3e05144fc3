import { z } from 'zod';
import { reconnectSchema } from '../common/reconnect.config.js';

const glob = z.string().regex(/^[a-z0-9_.*?]+$/, 'expected an entity id glob: a-z, 0-9, _, ., * and ?');

export const homeAssistantConfigSchema = z
  .strictObject({
    name: z.string(),
    type: z.literal('home-assistant'),
    /** Home Assistant's base URL; REST at <url>/api/states, WebSocket at <url>/api/websocket. */
    url: z.string().regex(/^https?:\/\/[^/\s]+/, 'expected an http:// or https:// URL'),
    /** A long-lived access token (user profile > Security). Prefer tokenEnv: it keeps the secret out of the file. */
    token: z.string().min(1).optional(),
    /** The environment variable holding the long-lived access token. */
    tokenEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
      .optional(),
    /** Entity domains to take (sensor, binary_sensor, climate, ...); empty takes every domain. */
    domains: z.array(z.string().regex(/^[a-z0-9_]+$/, 'expected a domain such as sensor')).default([]),
    /** Entity id globs to take (`sensor.*_temperature`); empty takes every entity of the domains. */
    include: z.array(glob).default([]),
    /** Entity id globs to leave out, applied after include. */
    exclude: z.array(glob).default([]),
    requestTimeoutMs: z.number().int().positive().default(10_000),
    /** A ping this often; no pong by the next one means a dead connection, which is then replaced. */
    heartbeatMs: z.number().int().positive().default(30_000),
    reconnect: reconnectSchema,
    labels: z.record(z.string(), z.string()).default({}),
  })
  .refine((c) => (c.token === undefined) !== (c.tokenEnv === undefined), {
    message: 'expected exactly one of token and tokenEnv',
    path: ['token'],
  })
  .refine((c) => c.tokenEnv === undefined || (process.env[c.tokenEnv] ?? '') !== '', {
    message: 'expected the environment variable to hold the token, but it is not set',
    path: ['tokenEnv'],
  });

export type HomeAssistantConfig = z.infer<typeof homeAssistantConfigSchema>;
