import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '@sentio/observability';
import avro from 'avsc';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { offsetsForTime, watermarks, type PartitionOffsets } from './kafka-offsets.util.js';
import { readRange } from './kafka-range.util.js';

/** One file of the archive: a contiguous offset range of one partition of one topic. */
export interface ArchiveSegment {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  records: number;
  minTimestampMs: number;
  maxTimestampMs: number;
  /** Relative to the archive folder. */
  file: string;
  bytes: number;
}

interface ArchivedRecord {
  offset: number;
  timestampMs: number;
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * Records as Kafka held them: offset, broker timestamp, key and value bytes unchanged (the value keeps its
 * Confluent header, so the registry still names its writer schema).
 */
const archivedRecord = avro.Type.forSchema({
  type: 'record',
  name: 'ArchivedRecord',
  namespace: 'io.sentio.archive',
  fields: [
    { name: 'offset', type: 'long' },
    { name: 'timestampMs', type: 'long' },
    { name: 'key', type: ['null', 'bytes'], default: null },
    { name: 'value', type: ['null', 'bytes'], default: null },
  ],
});

const INDEX = 'index.json';
const RECORDS_PER_FILE = 1_000_000;

/**
 * Closed time ranges of topics in Avro object container files (deflate), one folder per topic, and
 * `index.json` listing every file's partition, offset range, record count and time range. The index is
 * rewritten (write, then rename) after the file it names is complete, so a crash leaves no entry for a
 * half-written file, and the next run archives that range again.
 */
export class TopicArchive {
  constructor(readonly dir: string) {}

  async segments(): Promise<ArchiveSegment[]> {
    try {
      return (JSON.parse(await readFile(join(this.dir, INDEX), 'utf8')) as { segments: ArchiveSegment[] })
        .segments;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** Per partition of the topic, the first archived offset (where a replay can start from the archive). */
  async firstOffsets(topic: string): Promise<PartitionOffsets> {
    const first: PartitionOffsets = new Map();
    for (const s of (await this.segments()).filter((x) => x.topic === topic)) {
      const offset = BigInt(s.firstOffset);
      if (!first.has(s.partition) || offset < first.get(s.partition)!) first.set(s.partition, offset);
    }
    return first;
  }

  /** Per partition, the offset after the last archived one. */
  async nextOffsets(topic: string): Promise<PartitionOffsets> {
    const next: PartitionOffsets = new Map();
    for (const s of (await this.segments()).filter((x) => x.topic === topic)) {
      const offset = BigInt(s.lastOffset) + 1n;
      if (offset > (next.get(s.partition) ?? -1n)) next.set(s.partition, offset);
    }
    return next;
  }

  /** Writes one file of records of one partition (offset order) and adds it to the index. */
  async append(topic: string, partition: number, records: ArchivedRecord[]): Promise<ArchiveSegment> {
    const first = records[0]!;
    const last = records.at(-1)!;
    const file = join(topic, `${partition}-${String(first.offset).padStart(20, '0')}-${last.offset}.avro`);
    const path = join(this.dir, file);
    await mkdir(dirname(path), { recursive: true });
    const encoder = avro.createFileEncoder(`${path}.tmp`, archivedRecord, { codec: 'deflate' });
    for (const r of records) encoder.write(r);
    encoder.end();
    await once(encoder, 'finish');
    await rename(`${path}.tmp`, path);
    const { size } = await stat(path);
    const segment: ArchiveSegment = {
      topic,
      partition,
      firstOffset: String(first.offset),
      lastOffset: String(last.offset),
      records: records.length,
      minTimestampMs: Math.min(...records.map((r) => r.timestampMs)),
      maxTimestampMs: Math.max(...records.map((r) => r.timestampMs)),
      file,
      bytes: size,
    };
    const segments = [...(await this.segments()), segment];
    await writeFile(join(this.dir, `${INDEX}.tmp`), JSON.stringify({ segments }, null, 1));
    await rename(join(this.dir, `${INDEX}.tmp`), join(this.dir, INDEX));
    return segment;
  }

  /**
   * The archived records of [from, to) of one partition, as Kafka messages, in offset order and in batches.
   * Throws when the archive has a hole in that range: a replay must not skip records silently.
   */
  async *read(topic: string, partition: number, from: bigint, to: bigint): AsyncGenerator<KafkaMessage[]> {
    const segments = (await this.segments())
      .filter((s) => s.topic === topic && s.partition === partition)
      .filter((s) => BigInt(s.lastOffset) >= from && BigInt(s.firstOffset) < to)
      .sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : 1));
    let expected = from;
    for (const s of segments) {
      if (BigInt(s.firstOffset) > expected)
        throw new Error(
          `archive of ${topic}/${partition} has no records ${expected}..${BigInt(s.firstOffset) - 1n}`,
        );
      let batch: KafkaMessage[] = [];
      const decoder = createReadStream(join(this.dir, s.file)).pipe(new avro.streams.BlockDecoder());
      for await (const r of decoder as AsyncIterable<ArchivedRecord>) {
        const offset = BigInt(r.offset);
        if (offset < expected || offset >= to) continue;
        batch.push({
          offset: String(r.offset),
          timestamp: String(r.timestampMs),
          key: r.key,
          value: r.value,
          attributes: 0,
          headers: {},
        } as KafkaMessage);
        expected = offset + 1n;
        if (batch.length >= 10_000) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
      expected = BigInt(s.lastOffset) + 1n > expected ? BigInt(s.lastOffset) + 1n : expected;
    }
    if (expected < to)
      throw new Error(`archive of ${topic}/${partition} has no records ${expected}..${to - 1n}`);
  }
}

export interface ArchiveRunResult {
  topic: string;
  segments: ArchiveSegment[];
}

/**
 * Archives every topic's closed range: records whose broker timestamp is before `closedBeforeMs`, from where
 * the archive ends (or the partition's first record) on. Runs again later continue where this one stopped.
 */
export async function archiveTopics(
  kafka: Kafka,
  archive: TopicArchive,
  topics: readonly string[],
  closedBeforeMs: number,
  logger: Logger,
): Promise<ArchiveRunResult[]> {
  const results: ArchiveRunResult[] = [];
  for (const topic of topics) {
    const { low } = await watermarks(kafka, topic);
    const archived = await archive.nextOffsets(topic);
    const start: PartitionOffsets = new Map(
      [...low].map(([p, l]) => [p, (archived.get(p) ?? l) > l ? archived.get(p)! : l]),
    );
    for (const [p, a] of archived) {
      if (a < (low.get(p) ?? 0n))
        logger.warn(
          { topic, partition: p, archivedTo: String(a), low: String(low.get(p)) },
          'records were deleted by retention before they were archived',
        );
    }
    const end = await offsetsForTime(kafka, topic, closedBeforeMs);
    const pending = new Map<number, ArchivedRecord[]>();
    const segments: ArchiveSegment[] = [];
    const flush = async (partition: number) => {
      const records = pending.get(partition);
      if (!records || records.length === 0) return;
      pending.set(partition, []);
      segments.push(await archive.append(topic, partition, records));
    };
    await readRange(kafka, topic, start, end, async (partition, messages) => {
      const records = pending.get(partition) ?? [];
      for (const m of messages) {
        records.push({
          offset: Number(m.offset),
          timestampMs: Number(m.timestamp),
          key: m.key,
          value: m.value,
        });
      }
      pending.set(partition, records);
      if (records.length >= RECORDS_PER_FILE) await flush(partition);
    });
    for (const partition of pending.keys()) await flush(partition);
    results.push({ topic, segments });
    logger.info(
      { topic, files: segments.length, records: segments.reduce((n, s) => n + s.records, 0) },
      'archived',
    );
  }
  return results;
}
