import { Inject, Injectable } from '@nestjs/common';
import { decodeCursor, encodeCursor, pageSize } from '../common/cursor.util.js';
import { toLabels } from '../common/label.dto.js';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';
import { DevicesQueryRepository } from '@sentio/clickhouse';
import type { DevicePageDto, DevicesQueryDto } from './devices.dto.js';
import type { LatestValueDto } from './metrics.dto.js';
import { MetricsService } from './metrics.service.js';
import { ReadCache } from './read-cache.service.js';

@Injectable()
export class DevicesService {
  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(DevicesQueryRepository) private readonly devices: DevicesQueryRepository,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(ReadCache) private readonly reads: ReadCache,
  ) {}

  /** A page of the inventory with each device's latest values: the fleet overview. */
  list(query: DevicesQueryDto, caller?: AuthenticatedUser): Promise<DevicePageDto> {
    return this.reads.read(caller, ['devices', query], () => this.page(query));
  }

  private async page(query: DevicesQueryDto): Promise<DevicePageDto> {
    const limit = pageSize(query.limit, this.config.limits.maxRows);
    const after =
      query.cursor === undefined
        ? undefined
        : decodeCursor(
            query.cursor,
            (v): v is { after: string } => typeof (v as { after?: unknown })?.after === 'string',
          ).after;
    // One row more than the page tells whether another page follows, without a count query.
    const rows = await this.devices.list({
      type: query.type,
      connector: query.connector,
      online: query.online,
      label: query.label === undefined ? undefined : splitLabel(query.label),
      search: query.search === '' ? undefined : query.search,
      includeRemoved: query.includeRemoved ?? false,
      after,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    // One query for the whole page rather than one per device.
    const latest = await this.metrics.latestOf(page.map((r) => r.device_id));
    return {
      items: page.map((r) => ({
        deviceId: r.device_id,
        lastEvent: r.last_event,
        deviceType: r.device_type,
        vendor: r.vendor,
        model: r.model,
        connector: r.connector,
        online: Boolean(r.online),
        removed: Boolean(r.removed),
        labels: toLabels(r.labels),
        metrics: r.metric_names.map((name, i) => ({ name, unit: r.metric_units[i] ?? '' })),
        updatedAt: new Date(Number(r.updated_at_ms)).toISOString(),
        lastSeen: lastSeen(latest.get(r.device_id)),
        latest: latest.get(r.device_id) ?? [],
      })),
      nextCursor: rows.length > limit && last ? encodeCursor({ after: last.device_id }) : undefined,
    };
  }
}

/** The newest sample of any metric: when the device was last heard from. */
function lastSeen(values: LatestValueDto[] | undefined): string | undefined {
  return values?.reduce<string | undefined>(
    (max, v) => (max === undefined || v.ts > max ? v.ts : max),
    undefined,
  );
}

/** `key=value`, split at the first `=` (a value may hold more). */
function splitLabel(label: string): { key: string; value: string } {
  const eq = label.indexOf('=');
  return { key: label.slice(0, eq), value: label.slice(eq + 1) };
}
