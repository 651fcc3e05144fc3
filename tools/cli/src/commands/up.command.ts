import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startDemo, type Demo } from '../demo-wiring.js';
import type { Command } from './command.type.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const sentio = resolve(root, 'bin/sentio');
const kafkaScript = resolve(root, 'tools/kafka/kafka.sh');
const registryScript = resolve(root, 'tools/schema-registry/apicurio.sh');

async function waitForHttp(
  url: string,
  child: ChildProcess,
  what: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000}s`);
}

/**
 * Everything on one machine: Kafka (KRaft, from the Maven jars), the schema registry (Apicurio), every
 * platform component in one process on embedded ClickHouse, and the plant simulator. The simulator serves
 * the plant over Modbus TCP, OPC UA and (with Mosquitto installed) Zigbee2MQTT, and the platform's connectors
 * read it from there (`--direct`: the simulator produces to Kafka itself). Kafka and the registry keep
 * running after Ctrl-C, so the next `up` starts in seconds and keeps its data.
 */
export const upCommand: Command = {
  name: 'up',
  summary: 'Start Kafka, the schema registry, all components (embedded ClickHouse) and the simulator.',
  usage: '[--devices 50] [--no-simulator] [--direct (simulator straight to Kafka)] [--no-mqtt]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        devices: { type: 'string', default: '50' },
        'no-simulator': { type: 'boolean', default: false },
        direct: { type: 'boolean', default: false },
        'no-mqtt': { type: 'boolean', default: false },
      },
    });
    const viaConnectors = !values['no-simulator'] && !values.direct;
    const devices = Number(values.devices);
    if (!Number.isInteger(devices) || devices <= 0)
      throw new Error(`--devices expects a positive whole number, got ${values.devices}`);
    const registryPort = process.env['SENTIO_REGISTRY_PORT'] ?? '8081';
    const httpPort = process.env['SENTIO_HTTP_PORT'] ?? '8080';
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SCHEMA_REGISTRY_URL:
        process.env['SCHEMA_REGISTRY_URL'] ?? `http://127.0.0.1:${registryPort}/apis/ccompat/v7`,
      SENTIO_CLICKHOUSE_PATH: process.env['SENTIO_CLICKHOUSE_PATH'] ?? resolve(root, '.sentio/clickhouse'),
    };

    for (const [what, script] of [
      ['kafka', kafkaScript],
      ['schema registry', registryScript],
    ] as const) {
      if (spawnSync(script, ['start'], { stdio: 'inherit', env }).status !== 0)
        throw new Error(`${what} did not start`);
    }

    const children: Array<{ name: string; child: ChildProcess }> = [];
    const start = (name: string, args: string[]) => {
      const child = spawn(sentio, args, { stdio: 'inherit', env });
      children.push({ name, child });
      return child;
    };
    let demo: Demo | undefined;
    const stopAll = async () => {
      for (const { child } of [...children].reverse()) child.kill('SIGTERM');
      await demo?.stop();
      await Promise.all(
        children.map(({ child }) =>
          child.exitCode !== null || child.signalCode !== null
            ? undefined
            : new Promise((r) => child.once('exit', r)),
        ),
      );
    };

    try {
      if (viaConnectors) {
        // The plant first: the connectors read it as soon as the platform starts.
        demo = await startDemo({
          devices,
          folder: resolve(root, '.sentio/demo'),
          mqtt: !values['no-mqtt'],
          ports: { modbus: 5020, opcua: 4840, mqtt: 1883 },
          sentio: [sentio],
          env,
        });
        env['SENTIO_CONNECTORS_FILE'] = demo.connectorsFile;
      }
      const platform = start('platform', ['run', 'all']);
      await waitForHttp(`http://127.0.0.1:${httpPort}/health`, platform, 'platform');
      if (!values['no-simulator'] && values.direct)
        start('simulator', ['simulate', '--devices', values.devices]);
    } catch (error) {
      await stopAll();
      throw error;
    }

    process.stdout.write(
      [
        '',
        'Sentio is running:',
        `  kafka            127.0.0.1:${process.env['SENTIO_KAFKA_PORT'] ?? '9092'}   (stays up: tools/kafka/kafka.sh stop)`,
        `  schema registry  ${env['SCHEMA_REGISTRY_URL']}   (Apicurio; stays up: tools/schema-registry/apicurio.sh stop)`,
        `  platform         http://127.0.0.1:${httpPort}/health  /metrics   (targets: all)`,
        `  clickhouse       embedded, ${env['SENTIO_CLICKHOUSE_PATH']}`,
        ...(values['no-simulator']
          ? []
          : demo
            ? [
                `  simulator        ${values.devices} devices at 1 Hz, read by the connectors (--direct: straight to Kafka)`,
                ...demo.describe(),
              ]
            : [`  simulator        ${values.devices} devices at 1 Hz, straight to Kafka (--direct)`]),
        demo
          ? `Ctrl-C stops the platform and the simulator${demo.mqttUrl ? ' and its MQTT broker' : ''}.`
          : 'Ctrl-C stops the platform and the simulator.',
        '',
      ].join('\n'),
    );

    return new Promise<number>((resolvePromise) => {
      const shutdown = () => void stopAll().then(() => resolvePromise(0));
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      for (const { name, child } of [...children, ...(demo?.children ?? [])]) {
        child.once('exit', (code) => {
          if (code !== 0 && code !== null) process.stderr.write(`${name} exited with code ${code}\n`);
        });
      }
    });
  },
};
