import { z } from 'zod';
import type { Notifier } from '../notify/notification.type.js';

export interface ReceiverEnv {
  /** Link back to Sentio in payloads (externalURL, generatorURL). */
  externalUrl: string;
}

/**
 * A receiver integration plugs in here (grafana/alerting's receivers/factory.go): its config schema and
 * a factory. The dispatcher never names an integration type, so adding one edits no central switch.
 */
export interface ReceiverManifest<S extends z.ZodType = z.ZodType> {
  type: string;
  schema: S;
  create(config: z.output<S>, env: ReceiverEnv): Notifier;
}

const manifests = new Map<string, ReceiverManifest>();

export function registerReceiver<S extends z.ZodType>(manifest: ReceiverManifest<S>): void {
  manifests.set(manifest.type, manifest as unknown as ReceiverManifest);
}

export function receiverManifest(type: string): ReceiverManifest | undefined {
  return manifests.get(type);
}

export function receiverTypes(): string[] {
  return [...manifests.keys()].sort();
}

/** Every integration shares these: whether resolved notifications go out, also for silenced alerts. */
export const commonIntegrationFields = {
  sendResolved: z.boolean().default(true),
};
