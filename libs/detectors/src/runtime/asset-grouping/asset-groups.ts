import { createHash } from 'node:crypto';
import type { Anomaly } from '@sentio/events';
import type { GroupScore } from '../../models/robust-group-model.js';
import {
  GroupLifecycle,
  type GroupLifecycleOptions,
  type LifecycleEvent,
} from '../retraining/group-lifecycle.js';

export interface AssetGroupsOptions {
  /** Each device's metrics, in the order its rows carry them. */
  metrics: readonly string[];
  stepMs: number;
  /** How the asset's group model is fitted and retrained (the devices' own settings). */
  lifecycle: Omit<GroupLifecycleOptions, 'features'>;
  /** A row still waiting for a member this many steps after a newer complete row is dropped. */
  maxWaitRows: number;
}

export interface AssetRow {
  assetId: string;
  endMs: number;
  /** Member devices, sorted: the row is their rows side by side in this order. */
  members: readonly string[];
  features: readonly string[];
  score: GroupScore | undefined;
  modelVersion: string | undefined;
  margin: number | undefined;
  event: LifecycleEvent | undefined;
}

interface AssetState {
  members: string[];
  features: string[];
  /** Rows by end time, per member, until every member has delivered its row for that time. */
  pending: Map<number, Map<string, readonly number[]>>;
  lifecycle: GroupLifecycle<number>;
}

/**
 * Asset grouping: devices whose lifecycle labels name the same asset (the configured label, `asset` by
 * default) form one machine, and their rows at the same time, side by side, are scored by one robust group
 * model of the asset, fitted and retrained like a device's (cold start, schedule, drift, validation). It
 * sees what no device's own model can: one device leaving its usual relation to the others (a pump working
 * harder than its twin on the same header). An asset with one device is that device's own group; a new
 * member starts the asset's model over. Members must reach the same detector instance and arrive at about
 * the same pace (rows wait `maxWaitRows` steps for the others): key their telemetry by asset, so they share
 * a partition, rather than by device.
 */
export class AssetGroups {
  private readonly assetOf = new Map<string, string>();
  private readonly assets = new Map<string, AssetState>();

  constructor(private readonly options: AssetGroupsOptions) {}

  /** Records the asset a device belongs to (from its newest sample's labels); undefined: none. */
  assign(deviceId: string, assetId: string | undefined): void {
    const previous = this.assetOf.get(deviceId);
    if (previous === assetId) return;
    if (previous !== undefined) this.reset(previous, (m) => m.filter((d) => d !== deviceId));
    if (assetId === undefined || assetId === '') {
      this.assetOf.delete(deviceId);
      return;
    }
    this.assetOf.set(deviceId, assetId);
    this.reset(assetId, (m) => [...m, deviceId]);
  }

  /** Assets of two or more devices, with their members. */
  get groups(): Array<{ assetId: string; members: readonly string[] }> {
    return [...this.assets]
      .filter(([, a]) => a.members.length > 1)
      .map(([assetId, a]) => ({ assetId, members: a.members }));
  }

  /** A device's new row; returns the asset rows it completed (scored once the asset's model exists). */
  push(deviceId: string, endMs: number, residual: readonly number[]): AssetRow[] {
    const assetId = this.assetOf.get(deviceId);
    const asset = assetId === undefined ? undefined : this.assets.get(assetId);
    if (!asset || asset.members.length < 2) return [];
    let row = asset.pending.get(endMs);
    if (!row) asset.pending.set(endMs, (row = new Map()));
    row.set(deviceId, residual);
    if (row.size < asset.members.length) return [];
    asset.pending.delete(endMs);
    // Older incomplete rows will not complete any more once a member has moved this far on.
    const oldest = endMs - this.options.maxWaitRows * this.options.stepMs;
    for (const t of asset.pending.keys()) if (t < oldest) asset.pending.delete(t);
    const values = asset.members.flatMap((d) => [...row.get(d)!]);
    const event = asset.lifecycle.push(values, endMs);
    const model = asset.lifecycle.model;
    return [
      {
        assetId: assetId!,
        endMs,
        members: asset.members,
        features: asset.features,
        score: asset.lifecycle.last,
        modelVersion: model?.state.modelVersion,
        margin: model?.margin,
        event,
      },
    ];
  }

  private reset(assetId: string, members: (current: string[]) => string[]): void {
    const next = members(this.assets.get(assetId)?.members ?? []).sort();
    if (next.length === 0) {
      this.assets.delete(assetId);
      return;
    }
    const features = next.flatMap((d) => this.options.metrics.map((m) => `${d}/${m}`));
    this.assets.set(assetId, {
      members: next,
      features,
      // Rows already waiting stay: the new member may deliver the rows they wait for.
      pending: this.assets.get(assetId)?.pending ?? new Map(),
      lifecycle: new GroupLifecycle<number>({ ...this.options.lifecycle, features }),
    });
  }
}

/**
 * The anomaly of an alarming asset row: attributed to the member whose metrics contribute most, with every
 * member's metrics as `<device>/<metric>` contributions; the window is the row's step.
 */
export function assetAnomaly(row: AssetRow, stepMs: number): Anomaly | undefined {
  const score = row.score;
  if (!score?.anomalous || row.modelVersion === undefined) return undefined;
  const byDevice = new Map<string, number>();
  score.contributions.forEach((c, i) => {
    const device = row.features[i]!.slice(0, row.features[i]!.lastIndexOf('/'));
    byDevice.set(device, (byDevice.get(device) ?? 0) + c);
  });
  const deviceId = [...byDevice].sort((a, b) => b[1] - a[1])[0]![0];
  const modelId = `asset-group:${row.assetId}`;
  return {
    eventId: createHash('sha256')
      .update(`${modelId}:${row.modelVersion}:${row.endMs}`)
      .digest('hex')
      .slice(0, 32),
    deviceId,
    assetId: row.assetId,
    timestampMs: row.endMs,
    windowStartMs: row.endMs - stepMs,
    windowEndMs: row.endMs,
    score: score.raw,
    threshold: row.margin!,
    contributions: score.contributions
      .map((error, i) => ({ metric: row.features[i]!, error }))
      .sort((a, b) => b.error - a.error),
    modelId,
    modelVersion: row.modelVersion,
    detector: 'asset-group',
  };
}
