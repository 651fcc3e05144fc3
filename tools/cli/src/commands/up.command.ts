import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
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
  usage:
    '[--devices 50] [--no-simulator] [--direct (simulator straight to Kafka)] [--no-mqtt] ' +
    '[--fault pump-0003:bearing_wear@now ...] [--alerting <file> (or SENTIO_ALERTING_FILE)]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        devices: { type: 'string', default: '50' },
        'no-simulator': { type: 'boolean', default: false },
        direct: { type: 'boolean', default: false },
        'no-mqtt': { type: 'boolean', default: false },
        fault: { type: 'string', multiple: true, default: [] },
        alerting: { type: 'string' },
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

    // KAFKA_BROKERS / SCHEMA_REGISTRY_URL set: those are used as they are, nothing is started for them.
    for (const [what, script, external] of [
      ['kafka', kafkaScript, process.env['KAFKA_BROKERS']],
      ['schema registry', registryScript, process.env['SCHEMA_REGISTRY_URL']],
    ] as const) {
      if (external) continue;
      if (spawnSync(script, ['start'], { stdio: 'inherit', env }).status !== 0)
        throw new Error(`${what} did not start`);
    }
    const alerting = await prepareAlerting(values.alerting ?? process.env['SENTIO_ALERTING_FILE'], env);

    let demo: DemoPlan | undefined;
    if (viaConnectors) {
      // The plant first: the connectors read it as soon as the platform starts.
      demo = await planDemo({
        devices,
        folder: resolve(upStateDir(), 'demo'),
        mqtt: !values['no-mqtt'],
        ports: { modbus: 5020, opcua: 4840, mqtt: 1883 },
        sentio: [sentio],
        faults: values.fault,
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
        ? [
            {
              name: 'simulator',
              command: sentio,
              args: ['simulate', '--devices', values.devices, ...values.fault.flatMap((f) => ['--fault', f])],
              env,
            },
          ]
        : []),
    ];
    const banner = [
      '',
      'Sentio is running:',
      process.env['KAFKA_BROKERS']
        ? `  kafka            ${process.env['KAFKA_BROKERS']}   (KAFKA_BROKERS: not started by up)`
        : `  kafka            127.0.0.1:${process.env['SENTIO_KAFKA_PORT'] ?? '9092'}   (stays up: tools/kafka/kafka.sh stop)`,
      `  schema registry  ${env['SCHEMA_REGISTRY_URL']}   (Apicurio; stays up: tools/schema-registry/apicurio.sh stop)`,
      `  platform         http://127.0.0.1:${httpPort}/health  /metrics   (targets: all)`,
      `  clickhouse       embedded, ${env['SENTIO_CLICKHOUSE_PATH']}`,
      ...alerting,
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

/**
 * Alerting under `up`: the plant's rules (libs/alerting/rules/plant.yaml) unless ALERTING_RULES_PATH says
 * otherwise, and, from one YAML file (`--alerting` or SENTIO_ALERTING_FILE), the receivers, routes and
 * inhibition rules (the `alerting` config section's keys) plus optionally `rules:` replacing the plant's.
 * The notification part is merged into SENTIO_CONFIG_FILE's content (a copy in the state folder) and checked
 * here, so a bad receiver stops `up` at once with the field named. Returns the banner lines.
 */
async function prepareAlerting(file: string | undefined, env: NodeJS.ProcessEnv): Promise<string[]> {
  env['ALERTING_RULES_PATH'] ??= resolve(root, 'libs/alerting/rules/plant.yaml');
  if (!file)
    return [`  alerting         rules ${env['ALERTING_RULES_PATH']}; no receivers (--alerting <file>)`];
  if (!existsSync(file)) throw new Error(`--alerting ${file}: no such file`);
  const doc = (parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new Error(`--alerting ${file}: expected a mapping (receivers, route, inhibitRules, rules)`);
  const { rules, ...notifications } = doc;
  const { alertingConfigSection, buildDispatchConfig, readRuleFiles } = await import('@sentio/alerting');
  const { loadConfig } = await import('@sentio/config');
  if (rules !== undefined) {
    readRuleFiles(file); // every bad rule named by its field, before anything starts
    env['ALERTING_RULES_PATH'] = resolve(file);
  }
  const base = env['SENTIO_CONFIG_FILE']
    ? ((parse(readFileSync(env['SENTIO_CONFIG_FILE'], 'utf8')) ?? {}) as Record<string, unknown>)
    : {};
  const merged = {
    ...base,
    alerting: { ...((base['alerting'] as Record<string, unknown> | undefined) ?? {}), ...notifications },
  };
  const configFile = resolve(upStateDir(), 'sentio.config.yaml');
  writeFileSync(configFile, stringify(merged));
  const config = loadConfig([alertingConfigSection], { env, file: configFile }).alerting;
  buildDispatchConfig(config);
  env['SENTIO_CONFIG_FILE'] = configFile;
  return [
    `  alerting         rules ${env['ALERTING_RULES_PATH']}; receivers ${config.receivers.map((r) => r.name).join(', ') || 'none'} (from ${file})`,
  ];
}
