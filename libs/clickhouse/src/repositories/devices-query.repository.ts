import type { ClickHouseStore } from '../clickhouse-store.js';

export interface DeviceFilter {
  type?: string;
  connector?: string;
  online?: boolean;
  /** A label the device carries with this value, e.g. site = north. */
  label?: { key: string; value: string };
  /** Case-insensitive text the device id contains. */
  search?: string;
  includeRemoved: boolean;
  /** Keyset pagination: devices whose id sorts after this one. */
  after?: string;
  limit: number;
}

export interface DeviceQueryRow {
  device_id: string;
  last_event: string;
  device_type: string;
  vendor: string;
  model: string;
  connector: string;
  online: boolean;
  removed: boolean;
  labels: Record<string, string>;
  metric_names: string[];
  metric_units: string[];
  updated_at_ms: string;
}

export class DevicesQueryRepository {
  constructor(private readonly store: ClickHouseStore) {}

  /**
   * The inventory as of the newest lifecycle event per device. Filters apply outside FINAL: a filter on a
   * column that is not the sorting key must see the winning row, not an older one it happens to match.
   */
  list(filter: DeviceFilter): Promise<DeviceQueryRow[]> {
    const where = ['1'];
    const params: Record<string, unknown> = { limit: filter.limit };
    const bind = (name: keyof DeviceFilter, condition: string) => {
      if (filter[name] === undefined) return;
      where.push(condition);
      params[name] = filter[name];
    };
    bind('type', 'device_type = {type:String}');
    bind('connector', 'connector = {connector:String}');
    bind('online', 'online = {online:Bool}');
    bind('after', 'device_id > {after:String}');
    if (filter.label !== undefined) {
      // A missing key reads as '' from a Map: it must be there, not merely equal.
      where.push(
        'mapContains(labels, {labelKey:String}) AND labels[{labelKey:String}] = {labelValue:String}',
      );
      params['labelKey'] = filter.label.key;
      params['labelValue'] = filter.label.value;
    }
    bind('search', 'positionCaseInsensitiveUTF8(device_id, {search:String}) > 0');
    if (!filter.includeRemoved) where.push('NOT removed');
    return this.store.query<DeviceQueryRow>(
      `SELECT device_id, last_event, device_type, vendor, model, connector, online, removed, labels,
              arrayMap(m -> tupleElement(m, 1), metrics) AS metric_names,
              arrayMap(m -> tupleElement(m, 2), metrics) AS metric_units,
              toUnixTimestamp64Milli(updated_at) AS updated_at_ms
       FROM (SELECT * FROM ${this.store.table('devices')} FINAL)
       WHERE ${where.join(' AND ')}
       ORDER BY device_id
       LIMIT {limit:UInt32}`,
      params,
    );
  }
}
