import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type TelemetrySample } from '@sentio/events';
import { EventProducer } from '@sentio/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { HttpReceiver } from '../../tools/peers/alerting-peers.js';
import { alertEvents, until } from './alerting-support.js';
import { logger, sandbox, type Sandbox } from './support/backbone.js';
import { PlatformProcess } from './support/platform-process.js';

/**
 * kill -9 of the alerting process while an alert is pending, while it is firing, and while a notification
 * is in flight: no transition is lost or repeated on the alerts topic, a restored firing alert is not
 * notified again, and the notification cut off mid-send is sent again with the same idempotency key.
 */
interface Hook {
  status: string;
  alerts: Array<{ status: string; labels: Record<string, string> }>;
}

describe('alerting across kill -9', () => {
  let box: Sandbox;
  let webhook: HttpReceiver;
  let producer: EventProducer;
  let codec: EventCodec<TelemetrySample>;
  let env: Record<string, string>;
  let platform: PlatformProcess | undefined;
  const t0 = Date.now() - 600_000;

  const send = (from: number, to: number, value: number) => {
    const rows: TelemetrySample[] = [];
    for (let s = from; s < to; s++)
      rows.push({
        eventId: `p-${s}`,
        deviceId: 'pump-0007',
        timestampMs: t0 + s * 1000,
        metric: 'bearing_temperature',
        value,
        unit: null,
        quality: 'GOOD',
        labels: {},
        source: 'test',
      });
    return producer.send(
      box.topics.telemetry,
      rows.map((r) => ({ key: r.deviceId, value: codec.encode(r) })),
    );
  };
  const start = async () => (platform = await PlatformProcess.start('alerting', env, 'alerting-dispatcher'));
  const kill = async () => {
    platform!.child.kill('SIGKILL');
    await platform!.exited();
  };
  const transitions = async () =>
    (await alertEvents(box)).filter((e) => e.ruleId === 'hot').map((e) => `${e.previousStatus}>${e.status}`);

  beforeAll(async () => {
    box = await sandbox('alerting_restart');
    webhook = await HttpReceiver.start();
    codec = await EventCodec.register(
      AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!),
      eventStreams.telemetry,
      box.topics.telemetry,
    );
    producer = new EventProducer(
      box.kafka,
      { lingerMs: 5, batchSize: 10_000, batchBytes: 900_000, compression: 'none' },
      logger,
    );
    await producer.connect();
    const dir = mkdtempSync(join(tmpdir(), 'sentio-alerting-restart-'));
    writeFileSync(
      join(dir, 'rules.yaml'),
      stringify({
        rules: [
          {
            id: 'hot',
            name: 'Hot',
            condition: {
              kind: 'threshold',
              metric: 'bearing_temperature',
              aggregation: 'last',
              window: '5s',
              threshold: 80,
            },
            for: '30s',
          },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'sentio.yaml'),
      stringify({
        alerting: {
          receivers: [{ name: 'hook', webhook: [{ url: `${webhook.url}/hook` }] }],
          route: {
            receiver: 'hook',
            groupBy: ['alertname'],
            groupWait: '500ms',
            groupInterval: '1s',
            repeatInterval: '1h',
          },
        },
      }),
    );
    env = {
      ...box.env,
      SENTIO_CONFIG_FILE: join(dir, 'sentio.yaml'),
      ALERTING_RULES_PATH: join(dir, 'rules.yaml'),
      ALERTING_GROUP_ID: `alerting-${box.namespace}`,
      // Event time moves only with the data here, so the test decides when `for` has elapsed.
      ALERTING_IDLE_ADVANCE_MS: '600000',
      // A killed member's partitions are reassigned once its session times out: keep that short.
      KAFKA_CONSUMER_SESSION_TIMEOUT_MS: '6000',
    };
    await start();
  });

  afterAll(async () => {
    await platform?.stop();
    await producer?.disconnect();
    await webhook?.stop();
  });

  it('killed while pending: the restart continues the pending alert and fires it once', async () => {
    await send(0, 10, 50);
    await send(10, 25, 100); // hot for 15 s of event time: pending, `for` (30 s) not over
    await until('pending on the topic', async () =>
      (await transitions()).includes('INACTIVE>PENDING') ? true : undefined,
    );
    await kill();
    await start();
    expect(await transitions()).toEqual(['INACTIVE>PENDING']);
    await send(25, 45, 100); // 35 s hot: fires
    await until('firing on the topic', async () =>
      (await transitions()).includes('PENDING>FIRING') ? true : undefined,
    );
    await until('firing notified', () => webhook.json<Hook>().find((h) => h.status === 'firing'));
    expect(await transitions()).toEqual(['INACTIVE>PENDING', 'PENDING>FIRING']);
  });

  it('killed while firing: restored without a new transition or a second notification', async () => {
    await kill();
    await start();
    await send(45, 50, 100); // still hot: nothing changes
    await new Promise((r) => setTimeout(r, 4000)); // several group intervals
    expect(await transitions()).toEqual(['INACTIVE>PENDING', 'PENDING>FIRING']);
    expect(webhook.json<Hook>().map((h) => h.status)).toEqual(['firing']);
  });

  it('killed mid-send: the cut-off notification is sent again with the same idempotency key, once delivered', async () => {
    webhook.respond = () => ({ status: 200, delayMs: 60_000 }); // hangs: the process dies while waiting
    await send(50, 60, 20);
    const cut = await until('resolved request in flight', () =>
      webhook.requests.find((r) => (JSON.parse(r.body) as Hook).status === 'resolved'),
    );
    await kill();
    webhook.respond = () => ({ status: 200 });
    await start();
    await until('resolved sent again', () =>
      webhook.requests.filter((r) => (JSON.parse(r.body) as Hook).status === 'resolved').length >= 2
        ? true
        : undefined,
    );
    await new Promise((r) => setTimeout(r, 3000));
    const resolved = webhook.requests.filter((r) => (JSON.parse(r.body) as Hook).status === 'resolved');
    // The receiver sees one notification: both requests carry the same idempotency key and the same alerts.
    expect(new Set(resolved.map((r) => r.headers['idempotency-key']))).toEqual(
      new Set([cut.headers['idempotency-key']]),
    );
    expect(resolved).toHaveLength(2);
    expect(await transitions()).toEqual(['INACTIVE>PENDING', 'PENDING>FIRING', 'FIRING>RESOLVED']);
    // Delivered now: a further restart sends nothing more.
    await kill();
    await start();
    await new Promise((r) => setTimeout(r, 3000));
    expect(webhook.requests.filter((r) => (JSON.parse(r.body) as Hook).status === 'resolved')).toHaveLength(
      2,
    );
    expect(webhook.json<Hook>().filter((h) => h.status === 'firing')).toHaveLength(1);
  });
});
