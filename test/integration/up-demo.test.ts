import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ClickHouseStore } from '@sentio/clickhouse';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConnectorNames, startDemo, type Demo } from '../../tools/cli/src/demo-wiring.js';
import { openStore, sandbox, type Sandbox } from './support/backbone.js';
import { PlatformProcess, repoRoot } from './support/platform-process.js';

/** Each connector's telemetry events acknowledged by Kafka, from the platform's /metrics. */
async function telemetryOut(platform: PlatformProcess): Promise<Map<string, number>> {
  const text = await (await fetch(`${platform.baseUrl}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^sentio_connector_events_out_total\{(.*)\} (\S+)$/.exec(line);
    if (!m || !m[1]!.includes('stream="telemetry"')) continue;
    const connector = /connector="([^"]+)"/.exec(m[1]!)![1]!;
    out.set(connector, (out.get(connector) ?? 0) + Number(m[2]));
  }
  return out;
}

/** Whether the group has committed at least the given end offsets of the topic. */
async function committedPast(
  kafka: Kafka,
  groupId: string,
  topic: string,
  ends: Array<{ partition: number; high: string }>,
): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return ends.every((end) => {
      const c = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      return Math.max(0, Number(c)) >= Number(end.high);
    });
  } finally {
    await admin.disconnect();
  }
}

describe('sentio up: the demo plant through the connectors into ClickHouse', () => {
  let box: Sandbox;
  let demo: Demo | undefined;
  let platform: PlatformProcess | undefined;
  let store: ClickHouseStore | undefined;
  const simulatorOutput: string[] = [];

  beforeAll(async () => {
    box = await sandbox('up_demo');
    demo = await startDemo({
      devices: 10,
      folder: mkdtempSync(join(tmpdir(), 'sentio-up-demo-')),
      sentio: [
        process.execPath,
        '--import',
        '@swc-node/register/esm-register',
        resolve(repoRoot, 'tools/cli/src/main.ts'),
      ],
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const { child } of demo.children) {
      child.stdout?.on('data', (chunk: Buffer) => simulatorOutput.push(chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => simulatorOutput.push(chunk.toString()));
    }
    platform = await PlatformProcess.start(
      'connectors,ingest',
      { ...box.env, SENTIO_CONNECTORS_FILE: demo.connectorsFile },
      'ingest',
    );
    const connectors = [
      demoConnectorNames.modbus,
      demoConnectorNames.opcua,
      ...(demo.mqttUrl ? [demoConnectorNames.zigbee] : []),
    ];
    // Every connector has delivered a few ticks of the plant ...
    await platform.waitFor(async () => {
      const out = await telemetryOut(platform!);
      return connectors.every((c) => (out.get(c) ?? 0) >= 20);
    }, 120_000);
    // ... and ingest has committed (so inserted) everything on the topics up to this moment.
    const admin = box.kafka.admin();
    await admin.connect();
    const ends = {
      telemetry: await admin.fetchTopicOffsets(box.topics.telemetry),
      lifecycle: await admin.fetchTopicOffsets(box.topics.lifecycle),
    };
    await admin.disconnect();
    const group = box.env['INGEST_GROUP_ID']!;
    await platform.waitFor(
      async () =>
        (await committedPast(box.kafka, group, box.topics.telemetry, ends.telemetry)) &&
        (await committedPast(box.kafka, group, box.topics.lifecycle, ends.lifecycle)),
      120_000,
    );
    expect(await platform.stop()).toBe(0);
    await demo.stop();
    store = openStore(box);
  });

  afterAll(async () => {
    await platform?.stop();
    await demo?.stop();
    await store?.close();
  });

  it('stores telemetry of every device of each protocol, with the connector as source', async () => {
    const layout = demo!.layout;
    const rows = await store!.query<{ source: string; devices: string[]; metrics: string[] }>(
      `SELECT source, arraySort(groupUniqArray(device_id)) AS devices, arraySort(groupUniqArray(metric)) AS metrics
       FROM ${store!.table('metrics')} GROUP BY source ORDER BY source`,
    );
    const bySource = new Map(rows.map((r) => [r.source, r]));
    const expected = new Map<string, string[]>([
      [`modbus:${demoConnectorNames.modbus}`, layout.modbus.map((m) => m.device.id)],
      [`opcua:${demoConnectorNames.opcua}`, layout.opcua.map((d) => d.id)],
    ]);
    if (demo!.mqttUrl)
      expected.set(
        `zigbee2mqtt:${demoConnectorNames.zigbee}`,
        layout.zigbee.map((z) => z.ieeeAddress),
      );
    expect([...bySource.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [source, ids] of expected) {
      expect(ids.length).toBeGreaterThan(0);
      expect(bySource.get(source)!.devices).toEqual([...ids].sort());
    }
    expect(bySource.get(`modbus:${demoConnectorNames.modbus}`)!.metrics).toEqual(
      layout.modbus[0]!.device.metrics.map((m) => m.name).sort(),
    );
  });

  it('lists each device once in the inventory, under the connector that reads it', async () => {
    const layout = demo!.layout;
    const devices = await store!.query<{
      device_id: string;
      connector: string;
      device_type: string;
      vendor: string;
      labels: Record<string, string>;
    }>(
      `SELECT device_id, connector, device_type, vendor, labels FROM ${store!.table('devices')} FINAL ORDER BY device_id`,
    );
    const byId = new Map(devices.map((d) => [d.device_id, d]));
    expect(byId.size).toBe(devices.length);
    for (const { device } of layout.modbus) {
      expect(byId.get(device.id)).toMatchObject({
        connector: `modbus:${demoConnectorNames.modbus}`,
        device_type: device.type,
        vendor: device.vendor,
        labels: device.labels,
      });
    }
    for (const device of layout.opcua)
      expect(byId.get(device.id)?.connector).toBe(`opcua:${demoConnectorNames.opcua}`);
    for (const { device, ieeeAddress } of layout.zigbee) {
      expect(byId.get(ieeeAddress)).toMatchObject({
        connector: `zigbee2mqtt:${demoConnectorNames.zigbee}`,
        labels: { friendly_name: device.id },
      });
    }
    expect(byId.size).toBe(layout.modbus.length + layout.opcua.length + layout.zigbee.length);
  });
});
