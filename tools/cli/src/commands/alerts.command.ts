import { parseArgs } from 'node:util';
import {
  AlertRulesService,
  alertingConfigSection,
  backtest,
  parseDuration,
  readRuleFiles,
  readRuleInputs,
  type AlertRule,
  type AlertTransition,
} from '@sentio/alerting';
import { AvroSerde, avroConfigSection } from '@sentio/avro';
import {
  AlertInputsQueryRepository,
  ClickHouseStore,
  clickHouseConfigSection,
  ProjectionVersions,
} from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
import { createKafka, EventProducer, eventTopics, kafkaConfigSection } from '@sentio/kafka';
import { createLogger, progressReporter } from '@sentio/observability';
import type { Command } from './command.type.js';

const usage = `backtest --rule <file|id> --from <time> --to <time> [--id <rule id in the file>] [--json]

  --rule   a YAML rule file (one rule, or rules: [...] with --id), or the id of a rule in the rules topic
  --from   ISO time, epoch ms, or relative to now: -6h, -30m (default -1h)
  --to     same forms, or now (default now)
  --json   print the transitions as JSON lines instead of a table

Replays the recorded inputs (from Kafka within its retention; the older part of the range from the ClickHouse
projections at SENTIO_CLICKHOUSE_PATH, which no running platform may hold) through the live evaluator and prints the
timeline of what would have been pending, fired and resolved. Progress goes to stderr as JSON log lines.`;

export function parseTime(text: string, now = Date.now()): number {
  if (text === 'now') return now;
  if (/^-\d/.test(text)) return now - parseDuration(text.slice(1));
  if (/^\d+$/.test(text)) return Number(text);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`expected an ISO time, epoch ms, now or -<duration>, got "${text}"`);
  return t;
}

export function timelineRow(t: AlertTransition): string {
  const value = t.value === null ? '' : String(Math.round(t.value * 1000) / 1000);
  return [
    new Date(t.ts).toISOString(),
    t.deviceId.padEnd(14),
    `${t.previous} -> ${t.status}`.padEnd(22),
    t.severity.padEnd(8),
    value.padEnd(10),
    t.annotations['explanation'] ?? '',
  ].join('  ');
}

async function backtestCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rule: { type: 'string' },
      id: { type: 'string' },
      from: { type: 'string', default: '-1h' },
      to: { type: 'string', default: 'now' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.rule) throw new Error(`--rule is required\n\nusage: sentio alerts ${usage}`);
  const from = parseTime(values.from);
  const to = parseTime(values.to);
  if (!(to > from)) throw new Error('--to must be after --from');
  const config = loadConfig([kafkaConfigSection, avroConfigSection, alertingConfigSection]);
  const logger = createLogger('sentio-alerts');
  const kafka = createKafka(config.kafka, logger, 'sentio-alerts-backtest');
  const topics = eventTopics(config.kafka.namespace);
  const serde = AvroSerde.forUrl(config.avro.registryUrl);
  let rule: AlertRule;
  if (/\.ya?ml$/i.test(values.rule)) {
    const rules = readRuleFiles(values.rule);
    const chosen = values.id
      ? rules.find((r) => r.id === values.id)
      : rules.length === 1
        ? rules[0]
        : undefined;
    if (!chosen)
      throw new Error(
        values.id
          ? `no rule ${values.id} in ${values.rule}`
          : `${values.rule} holds ${rules.length} rules: pick one with --id`,
      );
    rule = chosen;
  } else {
    const producer = new EventProducer(kafka, config.kafka.producer, logger);
    const service = new AlertRulesService(
      { ...config.alerting, groupId: 'sentio-alerts-cli' },
      kafka,
      topics,
      logger,
      serde,
      producer,
    );
    await service.start();
    const entry = service.catalog.get(values.rule);
    await service.onModuleDestroy();
    if (!entry?.rule || entry.record.deleted)
      throw new Error(
        `no rule ${values.rule} in ${topics.alertRules}${entry?.error ? ` (${entry.error})` : ''}`,
      );
    rule = entry.rule;
  }
  let reported = 0;
  let progress: ReturnType<typeof progressReporter> | undefined;
  let store: ClickHouseStore | undefined;
  const { inputs, devices, sources } = await readRuleInputs(kafka, serde, topics, rule, from, to, {
    progress: (read, total) => {
      progress ??= progressReporter(logger, 'alerts backtest: reading', total);
      progress.advance(read - reported);
      reported = read;
    },
    // Opened only when the range starts before Kafka's retention.
    clickhouse: async () => {
      store = ClickHouseStore.open(loadConfig([clickHouseConfigSection]).clickhouse, logger);
      // Logical table names resolve to the live version of each projection family (after a replay swap).
      await ProjectionVersions.attach(store, logger, 0);
      return new AlertInputsQueryRepository(store);
    },
  }).finally(() => store?.close());
  progress?.done();
  for (const c of sources.clickhouse)
    logger.info(
      {
        stream: c.stream,
        from: new Date(c.from).toISOString(),
        to: new Date(c.to).toISOString(),
        rows: c.rows,
      },
      'older than Kafka retains: read from ClickHouse',
    );
  const result = backtest(rule, inputs, from, to, devices);
  if (values.json) {
    for (const t of result.transitions) process.stdout.write(`${JSON.stringify(t)}\n`);
  } else {
    process.stdout.write(
      `rule ${rule.id} (${rule.name}) from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}: ${result.inputs} inputs, ${result.transitions.length} transitions\n`,
    );
    for (const t of result.transitions) process.stdout.write(`${timelineRow(t)}\n`);
    const fired = result.transitions.filter((t) => t.status === 'firing').length;
    const resolved = result.transitions.filter((t) => t.status === 'resolved').length;
    process.stdout.write(`fired ${fired}, resolved ${resolved}\n`);
  }
  return 0;
}

export const alertsCommand: Command = {
  name: 'alerts',
  summary: 'alert rules: replay history through a rule (backtest)',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'backtest') return backtestCommand(rest);
    process.stderr.write(`usage: sentio alerts ${usage}\n`);
    return 2;
  },
};
