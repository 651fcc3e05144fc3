import { type INestApplicationContext } from '@nestjs/common';
import { type TelemetrySample } from '@sentio/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModbusServer, type Peer } from '../../tools/peers/peers.js';
import { sandbox, type Sandbox } from './support/backbone.js';
import { collect, until, startConnectors, type Collected } from './support/connector-harness.js';

const config = (port: number) => `
connectors:
  - name: line-1
    type: modbus
    labels: { site: test }
    reconnect: { initialMs: 200, maxMs: 1000 }
    devices:
      - id: plc-1
        host: 127.0.0.1
        port: ${port}
        unitId: 1
        pollIntervalMs: 200
        deviceType: plc
        vendor: pymodbus
        points:
          - { metric: flow, table: holding, address: 0, type: float32, unit: m3/h }
          - { metric: delta, table: holding, address: 2, type: int16 }
          - { metric: count, table: holding, address: 3, type: uint32, wordOrder: little }
          - { metric: energy, table: holding, address: 5, type: float64, unit: kWh }
          - { metric: temperature, table: input, address: 0, scale: 0.1, unit: degC }
          - { metric: running, table: coil, address: 0 }
          - { metric: fault, table: discrete, address: 0 }
          - { metric: missing, table: holding, address: 100 }
`;

describe('connectors: Modbus TCP into Kafka', () => {
  let box: Sandbox;
  let server: Peer;
  let app: INestApplicationContext | undefined;
  let got: Collected;

  beforeAll(async () => {
    box = await sandbox('connectors_modbus');
    server = await startModbusServer();
    got = await collect(box);
    app = await startConnectors(box, config(server.port));
  });

  afterAll(async () => {
    await app?.close();
    await got?.consumer.disconnect();
    await server?.stop();
  });

  it('decodes the known registers, and an exception as a BAD sample logged once', async () => {
    const missing = () => got.telemetry.filter((s) => s.metric === 'missing');
    await until(
      'three polls',
      () => missing().length >= 3,
      () => got.telemetry.length,
    );
    const first = new Map<string, TelemetrySample>();
    for (const s of got.telemetry) if (!first.has(s.metric)) first.set(s.metric, s);
    const sample = (metric: string) => {
      const { value, unit, quality, deviceId, labels, source } = first.get(metric)!;
      return { value, unit, quality, deviceId, labels, source };
    };
    const good = { quality: 'GOOD', deviceId: 'plc-1', labels: { site: 'test' }, source: 'modbus:line-1' };
    expect(sample('flow')).toEqual({ ...good, value: expect.closeTo(123.456, 4), unit: 'm3/h' });
    expect(sample('delta')).toEqual({ ...good, value: -5, unit: null });
    expect(sample('count')).toEqual({ ...good, value: 70000, unit: null });
    expect(sample('energy')).toEqual({ ...good, value: -1234.5678, unit: 'kWh' });
    expect(sample('temperature')).toEqual({ ...good, value: 25, unit: 'degC' });
    expect(sample('running')).toEqual({ ...good, value: 1, unit: null });
    expect(sample('fault')).toEqual({ ...good, value: 0, unit: null });
    expect(sample('missing')).toEqual({ ...good, quality: 'BAD', value: null, unit: null });
    expect(new Set(missing().map((s) => s.quality))).toEqual(new Set(['BAD']));

    const failures = got.logs.filter((l) => l.severity === 'ERROR');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      deviceId: 'plc-1',
      body: expect.stringMatching(
        /^read of holding 100\.\.100 failed: Modbus exception 2: Illegal data address/,
      ),
      attributes: { table: 'holding', address: '100', count: '1', unit_id: '1', exception_code: '2' },
      source: 'modbus:line-1',
    });
    expect(got.lifecycle.map((e) => [e.deviceId, e.kind, e.online, e.deviceType, e.vendor])).toEqual([
      ['plc-1', 'DISCOVERED', false, 'plc', 'pymodbus'],
      ['plc-1', 'ONLINE', true, 'plc', 'pymodbus'],
    ]);
    expect(got.lifecycle[0]!.metrics).toContainEqual({ name: 'flow', unit: 'm3/h' });
  });

  it('keeps polling when the device goes away: OFFLINE, then BAD samples', async () => {
    await server.stop();
    await until(
      'OFFLINE',
      () => got.lifecycle.some((e) => e.kind === 'OFFLINE'),
      () => got.lifecycle,
    );
    // Topics are fetched independently, so "after the loss" is by poll time, not by arrival.
    const lostAt = got.lifecycle.find((e) => e.kind === 'OFFLINE')!.timestampMs;
    const later = () => got.telemetry.filter((s) => s.metric === 'flow' && s.timestampMs > lostAt);
    await until(
      'a poll after the loss',
      () => later().length > 0,
      () => got.telemetry.length,
    );
    expect(later().every((s) => s.quality === 'BAD' && s.value === null)).toBe(true);
    expect(
      got.logs.some((l) => l.severity === 'WARN' && /connection to 127\.0\.0\.1:\d+\/1 lost/.test(l.body)),
    ).toBe(true);
  });
});
