import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { planDemo, type DemoPlan } from '../demo-wiring.js';
import type { ProcessSpec } from '../process.util.js';
import { upStateDir, type UpPlan } from '../up-supervisor.js';
import type { Command } from './command.type.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const sentio = resolve(root, 'bin/sentio');
const kafkaScript = resolve(root, 'tools/kafka/kafka.sh');
const registryScript = resolve(root, 'tools/schema-registry/apicurio.sh');

/**
 * Everything on one machine: Kafka (KRaft, from the Maven jars), the schema registry (Apicurio), every
 * platform component in one process on embedded ClickHouse, and the plant simulator. The simulator serves
 * the plant over Modbus TCP, OPC UA and (with Mosquitto installed) Zigbee2MQTT, and the platform's connectors
 * read it from there (`--direct`: the simulator produces to Kafka itself). Kafka and the registry keep
 * running after Ctrl-C, so the next `up` starts in seconds and keeps its data.
 *
 * Two halves: this command prepares (starts Kafka and the registry, picks ports, writes the connectors
 * file) and writes the plan of long-running processes (`--plan <file>`); the supervisor
 * (`up-supervisor.ts`, which `bin/sentio up` runs without the TypeScript loader, in tens of MB) starts
 * them, restarts one that dies and stops them all on Ctrl-C.
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
        plan: { type: 'string' },
      },
    });
    if (!values.plan) {
      // Run through `node main.ts up`: the supervisor is the same, only loaded here.
      const { superviseUp } = await import('../up-supervisor.js');
      return superviseUp(argv);
    }
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
      SENTIO_CLICKHOUSE_PATH: process.env['SENTIO_CLICKHOUSE_PATH'] ?? resolve(upStateDir(), 'clickhouse'),
    };

    for (const [what, script] of [
      ['kafka', kafkaScript],
      ['schema registry', registryScript],
    ] as const) {
      if (spawnSync(script, ['start'], { stdio: 'inherit', env }).status !== 0)
        throw new Error(`${what} did not start`);
    }

    let demo: DemoPlan | undefined;
    if (viaConnectors) {
      // The plant first: the connectors read it as soon as the platform starts.
      demo = await planDemo({
        devices,
        folder: resolve(upStateDir(), 'demo'),
        mqtt: !values['no-mqtt'],
        ports: { modbus: 5020, opcua: 4840, mqtt: 1883 },
        sentio: [sentio],
        env,
      });
      env['SENTIO_CONNECTORS_FILE'] = demo.connectorsFile;
    }
    const processes: ProcessSpec[] = [
      ...(demo?.processes ?? []),
      {
        name: 'platform',
        command: sentio,
        args: ['run', 'all'],
        env,
        ready: { http: `http://127.0.0.1:${httpPort}/health`, timeoutMs: 180_000 },
      },
      ...(!values['no-simulator'] && values.direct
        ? [{ name: 'simulator', command: sentio, args: ['simulate', '--devices', values.devices], env }]
        : []),
    ];
    const banner = [
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
      `A process that dies is restarted (backoff 1 s .. 30 s); after 5 quick deaths in a row up stops everything and exits 1.`,
      demo
        ? `Ctrl-C stops the platform and the simulator${demo.mqttUrl ? ' and its MQTT broker' : ''}.`
        : 'Ctrl-C stops the platform and the simulator.',
      '',
    ];
    const plan: UpPlan = { processes, banner };
    writeFileSync(values.plan, JSON.stringify(plan));
    return 0;
  },
};
