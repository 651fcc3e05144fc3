import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { webhookPayload, type Notifier } from '../notify/notification.type.js';
import { postJson } from './http-post.util.js';
import { commonIntegrationFields, registerReceiver } from './receiver-registry.js';

const schema = z
  .object({
    url: z.string().url(),
    /** Signs each body: `X-Sentio-Signature: sha256=<hex hmac of "<timestamp>.<body>">`, timestamp in `X-Sentio-Timestamp`. */
    secret: z.string().min(16, 'expected at least 16 characters').optional(),
    timeoutMs: z.number().int().positive().default(10_000),
    ...commonIntegrationFields,
  })
  .strict();

export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Alertmanager's webhook (payload version 4) plus an HMAC signature and an idempotency key. */
export const webhookReceiver = {
  type: 'webhook',
  schema,
  create(config: z.output<typeof schema>, env: { externalUrl: string }): Notifier {
    return {
      type: 'webhook',
      async notify(ctx, alerts) {
        const body = JSON.stringify(webhookPayload(ctx, alerts, env.externalUrl));
        const timestamp = String(Math.floor(Date.now() / 1000));
        const headers: Record<string, string> = {
          'idempotency-key': ctx.idempotencyKey,
          'x-sentio-timestamp': timestamp,
        };
        if (config.secret) headers['x-sentio-signature'] = signBody(config.secret, timestamp, body);
        return postJson(config.url, body, headers, ctx.signal, config.timeoutMs);
      },
    };
  },
};
registerReceiver(webhookReceiver);
