import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadConfig } from '@sentio/config';
import { eventStreams, type StreamName } from '@sentio/events';
import { createKafka, eventTopics, kafkaConfigSection } from '@sentio/kafka';
import { createLogger } from '@sentio/observability';
import { archiveTopics, replayConfigSection, TopicArchive } from '@sentio/replay';
import type { Command } from './command.type.js';

const options = {
  'closed-before': { type: 'string' },
  streams: { type: 'string' },
  dir: { type: 'string' },
} as const;

export const archiveCommand: Command = {
  name: 'archive',
  summary:
    'Write closed time ranges of each topic to Avro object container files with an index; replay reads them.',
  usage:
    '[--closed-before <time>] [--streams telemetry,logs,...] [--dir <folder>]\n' +
    '  Streams: by default those with archive: true in the stream catalogue (every delete-policy stream).\n' +
    '  Archives every record older than --closed-before (default: the start of the current hour) that the\n' +
    '  archive does not hold yet, into <dir>/<topic>/<partition>-<first>-<last>.avro and <dir>/index.json\n' +
    '  (dir: SENTIO_ARCHIVE_DIR, default .sentio/archive). Replays read the archive before Kafka.',
  async run(argv) {
    const { values } = parseArgs({ args: argv, options });
    const config = loadConfig([kafkaConfigSection, replayConfigSection]);
    const closedBeforeMs = values['closed-before']
      ? instant(values['closed-before'])
      : Math.floor(Date.now() / 3_600_000) * 3_600_000;
    // By default the streams whose catalogue entry asks for an archive (the compacted ones need none).
    const names = (values.streams?.split(',') ??
      (Object.keys(eventStreams) as StreamName[]).filter(
        (n) => (eventStreams[n] as { archive?: boolean }).archive === true,
      )) as StreamName[];
    const unknown = names.filter((n) => !Object.hasOwn(eventStreams, n));
    if (unknown.length > 0)
      throw new Error(
        `unknown stream(s) ${unknown.join(', ')}: expected ${Object.keys(eventStreams).join(', ')}`,
      );
    const topics = eventTopics(config.kafka.namespace);
    const logger = createLogger('sentio-archive');
    const archive = new TopicArchive(values.dir ?? config.replay.archiveDir);
    const results = await archiveTopics(
      createKafka(config.kafka, logger, 'sentio-archive'),
      archive,
      names.map((n) => topics[n]),
      closedBeforeMs,
      logger,
    );
    for (const r of results) {
      const records = r.segments.reduce((n, s) => n + s.records, 0);
      const bytes = r.segments.reduce((n, s) => n + s.bytes, 0);
      process.stdout.write(
        `${r.topic}: ${records.toLocaleString('en-US')} records in ${r.segments.length} file(s), ` +
          `${bytes.toLocaleString('en-US')} bytes\n`,
      );
    }
    process.stdout.write(
      `archive ${archive.dir} holds everything before ${new Date(closedBeforeMs).toISOString()}\n`,
    );
    return 0;
  },
};

/** An ISO-8601 instant or epoch milliseconds. */
function instant(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new Error(`expected an ISO-8601 instant or epoch ms, got ${text}`);
  return ms;
}
