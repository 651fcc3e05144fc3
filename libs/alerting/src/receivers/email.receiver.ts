import nodemailer from 'nodemailer';
import { z } from 'zod';
import type { DispatchedAlert, Notifier } from '../notify/notification.type.js';
import { commonIntegrationFields, registerReceiver } from './receiver-registry.js';

const schema = z
  .object({
    to: z.union([z.string().email(), z.array(z.string().email()).min(1)]),
    from: z.string().email(),
    /** host:port of the SMTP server. */
    smarthost: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port'),
    /** STARTTLS is used when offered; `requireTls` refuses to send without it. */
    requireTls: z.boolean().default(false),
    /** Accept self-signed certificates (tests, internal relays). */
    tlsInsecure: z.boolean().default(false),
    auth: z
      .object({ username: z.string().min(1), password: z.string().min(1) })
      .strict()
      .optional(),
    ...commonIntegrationFields,
  })
  .strict();

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export function emailContent(
  alerts: DispatchedAlert[],
  groupLabels: Record<string, string>,
): { subject: string; text: string; html: string } {
  const firing = alerts.filter((a) => a.status === 'firing');
  const resolved = alerts.filter((a) => a.status === 'resolved');
  const subject = `[${firing.length > 0 ? `FIRING:${firing.length}` : 'RESOLVED'}] ${
    Object.entries(groupLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || 'alerts'
  }`;
  const line = (a: DispatchedAlert) =>
    `- ${a.title}\n  ${a.description}\n  severity ${a.labels['severity'] ?? ''}: ${a.annotations['severity_reason'] ?? ''}\n  labels: ${Object.entries(
      a.labels,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`;
  const text = [
    firing.length > 0 ? `Firing (${firing.length}):\n${firing.map(line).join('\n')}` : '',
    resolved.length > 0 ? `Resolved (${resolved.length}):\n${resolved.map(line).join('\n')}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  const html = `<pre>${escapeHtml(text)}</pre>`;
  return { subject, text, html };
}

/** Email over SMTP (STARTTLS, AUTH) with nodemailer; the Message-ID carries the idempotency key. */
export const emailReceiver = {
  type: 'email',
  schema,
  create(config: z.output<typeof schema>): Notifier {
    const [host, port] = config.smarthost.split(':') as [string, string];
    const transport = nodemailer.createTransport({
      host,
      port: Number(port),
      secure: false,
      requireTLS: config.requireTls,
      tls: { rejectUnauthorized: !config.tlsInsecure },
      ...(config.auth ? { auth: { user: config.auth.username, pass: config.auth.password } } : {}),
      connectionTimeout: 10_000,
      socketTimeout: 15_000,
    });
    return {
      type: 'email',
      async notify(ctx, alerts) {
        const content = emailContent(alerts, ctx.groupLabels);
        try {
          await transport.sendMail({
            from: config.from,
            to: config.to,
            subject: content.subject,
            text: content.text,
            html: content.html,
            messageId: `<${ctx.idempotencyKey}@sentio>`,
            headers: { 'X-Sentio-Idempotency-Key': ctx.idempotencyKey },
          });
          return { ok: true, recoverable: false };
        } catch (error) {
          const e = error as Error & { responseCode?: number; code?: string };
          // 5xx SMTP replies are permanent; connection problems and 4xx replies are worth retrying.
          const permanent = e.responseCode !== undefined && e.responseCode >= 500;
          return {
            ok: false,
            recoverable: !permanent,
            error: `${e.code ?? 'SMTP'}: ${e.message}`,
            status: e.responseCode,
          };
        }
      },
    };
  },
};
registerReceiver(emailReceiver);
