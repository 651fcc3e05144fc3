import { z } from 'zod';
import type { Notifier } from '../notify/notification.type.js';
import { postJson } from './http-post.util.js';
import { commonIntegrationFields, registerReceiver } from './receiver-registry.js';

const schema = z
  .object({
    /** Base URL of the Alertmanager, e.g. http://alertmanager:9093 (alerts go to /api/v2/alerts). */
    url: z.string().url(),
    ...commonIntegrationFields,
  })
  .strict();

/**
 * Forwards to an existing Prometheus Alertmanager the way Prometheus does (POST /api/v2/alerts). A resolved
 * alert is posted with its endsAt; Alertmanager deduplicates by labels, so a repeated post is harmless.
 */
export const alertmanagerReceiver = {
  type: 'alertmanager',
  schema,
  create(config: z.output<typeof schema>, env: { externalUrl: string }): Notifier {
    return {
      type: 'alertmanager',
      notify(ctx, alerts) {
        const body = JSON.stringify(
          alerts.map((a) => ({
            labels: a.labels,
            annotations: {
              ...a.annotations,
              summary: a.annotations['summary'] ?? a.title,
              description: a.annotations['description'] ?? a.description,
            },
            startsAt: new Date(a.startsAt).toISOString(),
            ...(a.status === 'resolved' && a.endsAt !== null
              ? { endsAt: new Date(a.endsAt).toISOString() }
              : {}),
            generatorURL: `${env.externalUrl}/alerts?rule=${encodeURIComponent(a.labels['rule_id'] ?? '')}`,
          })),
        );
        return postJson(`${config.url.replace(/\/$/, '')}/api/v2/alerts`, body, {}, ctx.signal);
      },
    };
  },
};
registerReceiver(alertmanagerReceiver);
