import { z } from 'zod';
import type { DispatchedAlert, Notifier } from '../notify/notification.type.js';
import { postJson } from './http-post.util.js';
import { commonIntegrationFields, registerReceiver } from './receiver-registry.js';

const schema = z
  .object({
    url: z.string().url(),
    channel: z.string().optional(),
    username: z.string().default('Sentio'),
    ...commonIntegrationFields,
  })
  .strict();

const COLORS: Record<string, string> = {
  critical: '#b3261e',
  major: '#e8710a',
  minor: '#f9ab00',
  warning: '#f9ab00',
  info: '#1a73e8',
};

export function slackMessage(
  alerts: DispatchedAlert[],
  groupLabels: Record<string, string>,
  channel?: string,
  username?: string,
): object {
  const firing = alerts.filter((a) => a.status === 'firing');
  const header = `[${firing.length > 0 ? `FIRING:${firing.length}` : 'RESOLVED'}] ${Object.values(groupLabels).join(' ') || 'alerts'}`;
  return {
    ...(channel ? { channel } : {}),
    ...(username ? { username } : {}),
    text: header,
    attachments: alerts.map((a) => ({
      color: a.status === 'resolved' ? '#188038' : (COLORS[a.labels['severity'] ?? ''] ?? '#e8710a'),
      title: `${a.status === 'resolved' ? 'Resolved' : 'Firing'}: ${a.title}`,
      text: [
        a.description,
        a.annotations['severity_reason'] ? `Severity: ${a.annotations['severity_reason']}` : '',
      ]
        .filter(Boolean)
        .join('\n'),
      fields: ['device', 'severity', 'site']
        .filter((k) => a.labels[k])
        .map((k) => ({ title: k, value: a.labels[k], short: true })),
      ts: Math.floor(a.updatedAt / 1000),
    })),
  };
}

/** A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat accept this shape). */
export const slackReceiver = {
  type: 'slack',
  schema,
  create(config: z.output<typeof schema>): Notifier {
    return {
      type: 'slack',
      notify(ctx, alerts) {
        const body = JSON.stringify(slackMessage(alerts, ctx.groupLabels, config.channel, config.username));
        return postJson(config.url, body, { 'idempotency-key': ctx.idempotencyKey }, ctx.signal);
      },
    };
  },
};
registerReceiver(slackReceiver);
