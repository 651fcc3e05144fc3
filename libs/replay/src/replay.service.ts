import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  pinned,
  ProjectionVersions,
  ReplaysRepository,
  SinkBatchesRepository,
  STREAM_PROJECTIONS,
  type Projection,
  type ProjectionFamily,
  type ReplayRecord,
  type ReplayState,
  type StreamProjections,
} from '@sentio/clickhouse';
import type { RecordOf, StreamName } from '@sentio/events';
import { sinkStreams } from '@sentio/ingest';
import {
  DeadLetterPublisher,
  EVENT_TOPICS,
  KAFKA,
  StreamCodecs,
  type DeadLetter,
  type EventTopics,
} from '@sentio/kafka';
import { gauge, HealthRegistry, LOGGER, type Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import {
  committedOffsets,
  offsetsForTime,
  sameOffsets,
  sumGaps,
  watermarks,
  type PartitionOffsets,
} from './kafka-offsets.util.js';
import { BulkLoadService } from './bulk-load.service.js';
import { killForFaultInjection } from './fault-injection.util.js';
import { runPass } from './projection-pass.js';
import { ProjectionVersionsService, writeAheadGroup } from './projection-versions.service.js';
import type { ReplayConfig } from './replay.config.js';
import { FAMILY_SOURCES } from './replay-families.constant.js';
import { INGEST_GROUP_ID, REPLAY_CONFIG } from './replay.tokens.js';
import { TopicArchive } from './topic-archive.js';

export interface ProjectionReplayRequest {
  family: ProjectionFamily;
  fromMs?: number;
  toMs?: number;
  devices?: string[];
  /**
   * Swap the version in once it has caught up. Default: true for a full rebuild, false for a partial one
   * (--from, --to or --devices), which is refused: see `partial`.
   */
  swap?: boolean;
}

/**
 * A partial build (a time range or some devices) holds only the rows of its range; every other row of the
 * family would be gone from the API after a swap. It is built to be inspected or compared (queries on its
 * pinned tables, `replay versions`), never swapped in; a full rebuild into the same version starts it from
 * scratch.
 */
export function isPartial(r: { fromMs?: number | null; toMs?: number | null; devices?: readonly string[] }) {
  return (r.fromMs ?? null) !== null || (r.toMs ?? null) !== null || (r.devices?.length ?? 0) > 0;
}

const PARTIAL_SWAP =
  'a partial build (--from, --to or --devices) holds only the records of its range: swapping it in would ' +
  'drop every other row of the family. Build it without a swap (--no-swap) to inspect it, or rebuild the ' +
  'whole family to swap';

export interface PartitionPlan {
  partition: number;
  start: string;
  end: string;
  records: number;
}

export interface ReplayPlan {
  family: ProjectionFamily;
  version: number;
  newVersion: boolean;
  topic: string;
  resumesFrontier: boolean;
  partitions: PartitionPlan[];
  records: number;
  ratePerSecond: number;
  estimatedSeconds: number;
}

export interface ReplayProgress {
  id: string;
  kind: string;
  family: string;
  version: number;
  state: ReplayState;
  records: number;
  ratePerSecond: number;
  lag: number;
  etaSeconds: number | null;
  swapped: boolean;
  /** Seconds from the start (or resume) until the version caught up with live ingest. */
  catchUpSeconds: number | null;
  /** Seconds the history took to load into the staging table of a bulk load (null: none in this run). */
  bulkLoadSeconds: number | null;
  /** Engine seconds of rollup builds that ran while the history loaded (BulkLoadService.overlap). */
  bulkOverlappedSeconds: number | null;
  /** Seconds from the end of the load until the rollups were built and moved in (BulkLoadService.build). */
  bulkBuildSeconds: number | null;
  /** Seconds live writes to the family were held for the swap. */
  swapSeconds: number | null;
  error?: string;
  fromMs: number | null;
  toMs: number | null;
  devices: string[];
  createdAt: string;
}

const DLQ_REPLAY_HEADER = 'sentio.replay.id';

const recordsGauge = gauge('sentio_replay_records', 'Records a replay has projected', ['replay', 'family']);
const rateGauge = gauge('sentio_replay_rate_records_per_second', 'Replay throughput, last 10 s', [
  'replay',
  'family',
]);
const lagGauge = gauge('sentio_replay_lag_records', 'Records between a replay and its target', [
  'replay',
  'family',
]);
const etaGauge = gauge('sentio_replay_eta_seconds', 'Estimated time for a replay to reach its target', [
  'replay',
  'family',
]);
const runningGauge = gauge('sentio_replay_running', 'Replays running in this process');

class ReplayRun {
  records = 0;
  lag = 0;
  swapped = false;
  catchUpSeconds: number | null = null;
  bulkLoadSeconds: number | null = null;
  bulkOverlappedSeconds: number | null = null;
  bulkBuildSeconds: number | null = null;
  swapSeconds: number | null = null;
  readonly startedAt = performance.now();
  error: string | undefined;
  readonly controller = new AbortController();
  stopAs: ReplayState | undefined;
  private readonly samples: Array<{ at: number; records: number }> = [];
  promise: Promise<void> = Promise.resolve();

  constructor(public record: ReplayRecord) {}

  advance(records: number, lag: number): void {
    this.records += records;
    this.lag = lag;
    const now = performance.now();
    this.samples.push({ at: now, records: this.records });
    while (this.samples.length > 2 && now - this.samples[0]!.at > 10_000) this.samples.shift();
  }

  rate(): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at - first.at < 200) return 0;
    return ((last.records - first.records) * 1000) / (last.at - first.at);
  }

  progress(): ReplayProgress {
    const rate = this.rate();
    const r = this.record;
    return {
      id: r.id,
      kind: r.kind,
      family: r.family,
      version: r.version,
      state: r.state,
      records: this.records,
      ratePerSecond: Math.round(rate),
      lag: this.lag,
      etaSeconds: rate > 0 ? Math.round((this.lag / rate) * 10) / 10 : null,
      swapped: this.swapped,
      catchUpSeconds: this.catchUpSeconds,
      bulkLoadSeconds: this.bulkLoadSeconds,
      bulkOverlappedSeconds: this.bulkOverlappedSeconds,
      bulkBuildSeconds: this.bulkBuildSeconds,
      swapSeconds: this.swapSeconds,
      ...(this.error && { error: this.error }),
      fromMs: r.fromMs,
      toMs: r.toMs,
      devices: r.devices,
      createdAt: new Date(r.createdAtMs).toISOString(),
    };
  }
}

/**
 * Rebuilds a projection family from its topic into a version of its tables while live ingest keeps writing
 * the live version, catches it up in rounds to what live ingest has committed, and swaps it in under the
 * family's write gate (ProjectionVersions). A rollback is the same catch-up and swap towards the previous
 * version. Runs are listed with progress, paused, resumed and cancelled; they survive a crash.
 */
@Injectable()
export class ReplayService implements OnModuleInit, OnModuleDestroy {
  private readonly runs = new Map<string, ReplayRun>();
  private readonly logger: Logger;
  private readonly archive: TopicArchive;

  constructor(
    @Inject(REPLAY_CONFIG) private readonly config: ReplayConfig,
    @Inject(INGEST_GROUP_ID) private readonly ingestGroupId: string,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(StreamCodecs) private readonly codecs: StreamCodecs,
    @Inject(STREAM_PROJECTIONS) private readonly projections: StreamProjections,
    @Inject(SinkBatchesRepository) private readonly batches: SinkBatchesRepository,
    @Inject(DeadLetterPublisher) private readonly deadLetters: DeadLetterPublisher,
    @Inject(ReplaysRepository) private readonly replays: ReplaysRepository,
    @Inject(ProjectionVersions) private readonly versions: ProjectionVersions,
    @Inject(ProjectionVersionsService) readonly versionsService: ProjectionVersionsService,
    @Inject(BulkLoadService) private readonly bulk: BulkLoadService,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'replay' });
    this.archive = new TopicArchive(config.archiveDir);
  }

  onModuleInit(): void {
    this.health.register('replay', () => ({
      state: [...this.runs.values()].some((r) => r.record.state === 'failed') ? 'degraded' : 'up',
      detail: { replays: [...this.runs.values()].map((r) => r.progress()) },
    }));
  }

  /** Pauses running replays at a checkpoint (everything read inserted and committed) before the process ends. */
  async onModuleDestroy(): Promise<void> {
    await Promise.all(
      [...this.runs.values()]
        .filter((r) => r.record.state === 'running')
        .map(async (r) => {
          r.stopAs = 'interrupted';
          r.controller.abort();
          await r.promise.catch(() => undefined);
        }),
    );
  }

  topicOf(family: ProjectionFamily): string {
    return this.topics[FAMILY_SOURCES[family].stream];
  }

  /** What a replay of the family would read, per partition, and how long it would take (a dry run). */
  async plan(request: ProjectionReplayRequest): Promise<ReplayPlan> {
    const { family } = request;
    await this.versions.refresh();
    const live = this.versions.liveVersion(family);
    const candidates = this.versions.list(family).filter((v) => v.version > live && !v.dropped);
    const version =
      candidates.at(-1)?.version ?? Math.max(...this.versions.list(family).map((v) => v.version)) + 1;
    const topic = this.topicOf(family);
    const frontier = await this.frontier(family, version);
    const start = frontier ?? (await this.startOffsets(topic, request.fromMs));
    const end = await this.endOffsets(topic, request.toMs);
    const partitions = [...end].map(([partition, e]) => {
      const s = start.get(partition) ?? 0n;
      return { partition, start: String(s), end: String(e), records: Number(e > s ? e - s : 0n) };
    });
    const records = partitions.reduce((n, p) => n + p.records, 0);
    const ratePerSecond = await this.measuredRate();
    return {
      family,
      version,
      newVersion: candidates.length === 0,
      topic,
      resumesFrontier: frontier !== undefined,
      partitions,
      records,
      ratePerSecond,
      estimatedSeconds: Math.round((records / ratePerSecond) * 10) / 10,
    };
  }

  /** Starts (or resumes, when one is unfinished for the family) a rebuild of the family into a new version. */
  async startProjection(request: ProjectionReplayRequest): Promise<ReplayProgress> {
    const { family } = request;
    const partial = isPartial(request);
    if (partial && request.swap === true) throw new Error(PARTIAL_SWAP);
    const swap = request.swap ?? !partial;
    this.assertIdle(family);
    const stored = await this.replays.list();
    const unfinished = stored.find(
      (r) =>
        r.family === family &&
        r.kind === 'projection' &&
        ['running', 'paused', 'interrupted'].includes(r.state),
    );
    if (unfinished) {
      const same =
        unfinished.fromMs === (request.fromMs ?? null) &&
        unfinished.toMs === (request.toMs ?? null) &&
        unfinished.devices.join(',') === (request.devices ?? []).join(',');
      if (!same)
        throw new Error(
          `replay ${unfinished.id} of ${family} is ${unfinished.state} with another range: resume or cancel it first`,
        );
      this.logger.info({ id: unfinished.id }, 'resuming the unfinished replay of the family');
      return this.resume(unfinished.id);
    }
    const { version, created } = await this.versionsService.target(family);
    const last = stored
      .filter((r) => r.family === family && r.version === version && r.kind === 'projection')
      .sort((a, b) => a.createdAtMs - b.createdAtMs)
      .at(-1);
    // What a partial build left is not a start for another build: it starts from scratch.
    if (!created && last && isPartial(last)) await this.versionsService.reset(family, version);
    const record: ReplayRecord = {
      id: randomBytes(4).toString('hex'),
      kind: 'projection',
      family,
      version,
      state: 'running',
      fromMs: request.fromMs ?? null,
      toMs: request.toMs ?? null,
      devices: request.devices ?? [],
      detail: JSON.stringify({ swap }),
      createdAtMs: Date.now(),
    };
    const topic = this.topicOf(family);
    if ((await this.frontier(family, version)) === undefined) {
      const start = await this.startOffsets(topic, request.fromMs);
      for (const [partition, offset] of start) {
        await this.replays.commitFrontier(family, version, { topic, partition, nextOffset: String(offset) });
      }
    }
    await this.replays.save(record);
    return this.launch(record);
  }

  /**
   * Swaps the previous version back in: it is caught up from where it stopped being live to what live ingest
   * has committed, then the pointer moves (the version that was live becomes the previous one: roll forward
   * is another rollback).
   */
  async rollback(family: ProjectionFamily): Promise<ReplayProgress> {
    this.assertIdle(family);
    const pointer = (await this.versions.pointers()).get(family);
    if (!pointer || pointer.previous === 0)
      throw new Error(`${family} has no previous version to roll back to`);
    const previous = this.versions.version(family, pointer.previous);
    if (!previous || previous.dropped)
      throw new Error(`version ${pointer.previous} of ${family} was dropped`);
    if ((await this.frontier(family, pointer.previous)) === undefined)
      throw new Error(`version ${pointer.previous} of ${family} has no recorded frontier to catch up from`);
    const record: ReplayRecord = {
      id: randomBytes(4).toString('hex'),
      kind: 'rollback',
      family,
      version: pointer.previous,
      state: 'running',
      fromMs: null,
      toMs: null,
      devices: [],
      detail: JSON.stringify({ swap: true }),
      createdAtMs: Date.now(),
    };
    await this.replays.save(record);
    return this.launch(record);
  }

  async list(): Promise<ReplayProgress[]> {
    const stored = await this.replays.list();
    return stored.map((r) => {
      const run = this.runs.get(r.id);
      if (run) return run.progress();
      const detail = parseDetail(r.detail);
      const progress = new ReplayRun(r).progress();
      return {
        ...progress,
        records: detail.records ?? 0,
        ratePerSecond: detail.ratePerSecond ?? 0,
        swapped: detail.swapped ?? false,
        ...(detail.error && { error: detail.error }),
      };
    });
  }

  get(id: string): ReplayProgress | undefined {
    return this.runs.get(id)?.progress();
  }

  /** Resolves when the run ends (done, paused, cancelled, failed). */
  async wait(id: string): Promise<ReplayProgress> {
    const run = this.runs.get(id);
    if (!run) throw new Error(`replay ${id} is not running in this process`);
    await run.promise;
    return run.progress();
  }

  async pause(id: string): Promise<ReplayProgress> {
    return this.stop(id, 'paused');
  }

  /** Cancels: stops at a checkpoint; the version keeps what it has until `drop`. */
  async cancel(id: string): Promise<ReplayProgress> {
    const run = this.runs.get(id);
    if (run && run.record.state === 'running') return this.stop(id, 'cancelled');
    const record = (await this.replays.list()).find((r) => r.id === id);
    if (!record) throw new Error(`no replay ${id}`);
    if (!['paused', 'interrupted', 'failed'].includes(record.state))
      throw new Error(`replay ${id} is ${record.state}`);
    await this.replays.save({ ...record, state: 'cancelled' });
    return { ...new ReplayRun({ ...record, state: 'cancelled' }).progress() };
  }

  async resume(id: string): Promise<ReplayProgress> {
    if (this.runs.get(id)?.record.state === 'running') throw new Error(`replay ${id} is running`);
    const record = (await this.replays.list()).find((r) => r.id === id);
    if (!record) throw new Error(`no replay ${id}`);
    if (!['paused', 'interrupted', 'failed', 'running'].includes(record.state))
      throw new Error(`replay ${id} is ${record.state} and cannot be resumed`);
    this.assertIdle(record.family as ProjectionFamily);
    const resumed = { ...record, state: 'running' as const };
    await this.replays.save(resumed);
    return this.launch(resumed);
  }

  private async stop(id: string, as: ReplayState): Promise<ReplayProgress> {
    const run = this.runs.get(id);
    if (!run || run.record.state !== 'running')
      throw new Error(`replay ${id} is not running in this process`);
    run.stopAs = as;
    run.controller.abort();
    await run.promise.catch(() => undefined);
    return run.progress();
  }

  private assertIdle(family: string): void {
    const busy = [...this.runs.values()].find(
      (r) => r.record.family === family && r.record.state === 'running',
    );
    if (busy) throw new Error(`replay ${busy.record.id} of ${family} is running`);
  }

  private launch(record: ReplayRecord): ReplayProgress {
    const run = new ReplayRun(record);
    this.runs.set(record.id, run);
    runningGauge.inc();
    run.promise = this.execute(run).finally(() => runningGauge.dec());
    return run.progress();
  }

  private async execute(run: ReplayRun): Promise<void> {
    const r = run.record;
    const labels = { replay: r.id, family: r.family };
    const publish = setInterval(() => {
      const p = run.progress();
      recordsGauge.set(labels, p.records);
      rateGauge.set(labels, p.ratePerSecond);
      lagGauge.set(labels, p.lag);
      etaGauge.set(labels, p.etaSeconds ?? -1);
    }, 1000);
    const log = this.logger.child({ replay: r.id, family: r.family, version: r.version });
    const progressLog = setInterval(() => log.info(run.progress(), 'replay: progress'), 5000);
    try {
      const finished = await this.project(run, log);
      run.record = { ...r, state: finished ? 'done' : (run.stopAs ?? 'paused') };
    } catch (error) {
      run.error = (error as Error).message;
      run.record = { ...r, state: 'failed' };
      log.error({ err: error }, 'replay failed; resume it to continue from its frontier');
    } finally {
      clearInterval(publish);
      clearInterval(progressLog);
      const p = run.progress();
      recordsGauge.set(labels, p.records);
      rateGauge.set(labels, 0);
      lagGauge.set(labels, p.lag);
      etaGauge.set(labels, 0);
      const previous = parseDetail(r.detail);
      await this.replays
        .save({
          ...run.record,
          detail: JSON.stringify({
            ...previous,
            records: (previous.records ?? 0) + run.records,
            ratePerSecond: p.ratePerSecond || previous.ratePerSecond,
            swapped: run.swapped,
            ...(run.error && { error: run.error }),
          }),
        })
        .catch((error: unknown) => log.error({ err: error }, 'could not record the replay state'));
      log.info(p, `replay: ${run.record.state}`);
    }
  }

  /** Returns true when the replay reached its end (and swapped, if it was to), false when stopped. */
  private async project(run: ReplayRun, log: Logger): Promise<boolean> {
    const r = run.record;
    const family = r.family as ProjectionFamily;
    const version = r.version;
    const topic = this.topicOf(family);
    const bounded = r.toMs !== null || r.devices.length > 0;
    const swap = parseDetail(r.detail).swap !== false;
    if (swap && isPartial(r)) throw new Error(PARTIAL_SWAP);
    // Rows are written with the current column set, and a swap must not serve a version without it.
    await this.versionsService.alignColumns(family, version);
    // A rebuild into an empty version with rollup views loads its history in bulk (BulkLoadService).
    const load = r.kind === 'projection' ? await this.bulk.prepare(family, version) : undefined;
    const streams = await this.streams(family, version, r);
    const pass = async (start: PartitionOffsets, end: PartitionOffsets, into = streams) => {
      const total = sumGaps(start, end);
      let done = 0;
      const result = await runPass({
        kafka: this.kafka,
        topic,
        start,
        end,
        streams: into,
        batches: this.batches,
        deadLetters: this.taggedDeadLetters(r.id),
        commitFrontiers: (frontiers) => this.replays.commitFrontiers(family, version, frontiers),
        sink: {
          groupId: writeAheadGroup(family, version),
          flushIntervalMs: this.config.flushIntervalMs,
          maxBatchRecords: this.config.maxBatchRecords,
          afterInsert: this.config.crashAfterInserts > 0 ? (n) => this.crashIfDue(n) : undefined,
        },
        logger: log,
        onProgress: (records) => {
          done += records;
          run.advance(records, Math.max(0, total - done));
        },
        signal: run.controller.signal,
        archive: this.archive,
      });
      return result === 'done';
    };

    if (load) {
      const start = await this.requireFrontier(family, version);
      const end = await this.endOffsets(topic, r.toMs ?? undefined);
      const into = await this.streams(family, version, r, load.staging);
      // Rollups of what is loaded are built while the rest loads: the engine aggregates while JS decodes.
      const stopOverlap = this.bulk.overlap(load);
      let loaded: boolean;
      try {
        loaded = await pass(start, end, into);
      } finally {
        await stopOverlap();
      }
      if (!loaded) return false;
      run.bulkLoadSeconds = round1((performance.now() - run.startedAt) / 1000);
      run.bulkOverlappedSeconds = round1(load.overlappedSeconds);
      const buildStarted = performance.now();
      if (!(await this.bulk.build(load, run.controller.signal))) return false;
      run.bulkBuildSeconds = round1((performance.now() - buildStarted) / 1000);
    }
    if (bounded) {
      const start = await this.requireFrontier(family, version);
      return pass(start, await this.endOffsets(topic, r.toMs ?? undefined));
    }
    // Catch up in rounds towards what live ingest has committed, which keeps moving.
    for (;;) {
      const start = await this.requireFrontier(family, version);
      const target = await committedOffsets(this.kafka, this.ingestGroupId, topic);
      const behind = sumGaps(start, target);
      run.lag = behind;
      if (behind <= this.config.swapThresholdRecords) break;
      if (!(await pass(start, target))) return false;
    }
    run.catchUpSeconds = round1((performance.now() - run.startedAt) / 1000);
    if (!swap) return true;
    const live = this.versions.liveVersion(family);
    if (live === version) return true;
    const gateStarted = performance.now();
    // The last stretch, with the family's live writes held: the version gets exactly what the live one has.
    await this.versions.swapUnderGate(family, async () => {
      const frontier = await this.stableCommitted(topic);
      const start = await this.requireFrontier(family, version);
      if (!(await pass(start, frontier)))
        throw new Error('stopped during the swap; the live version is unchanged');
      const after = await committedOffsets(this.kafka, this.ingestGroupId, topic);
      if (!sameOffsets(frontier, after)) {
        throw new Error(
          `live ingest (${this.ingestGroupId}) committed ${topic} while its writes were held: it runs in another ` +
            'process. Run the replay in the ingest process (the API) or stop ingest; the live version is unchanged.',
        );
      }
      // The version that stops being live holds exactly what ingest committed: a rollback resumes it there.
      for (const [partition, offset] of frontier) {
        await this.replays.commitFrontier(family, live, { topic, partition, nextOffset: String(offset) });
      }
      return { result: undefined, pointer: { live: version, previous: live, reason: `${r.kind} ${r.id}` } };
    });
    run.swapped = true;
    run.swapSeconds = round1((performance.now() - gateStarted) / 1000);
    log.info({ live: version, previous: live, swapSeconds: run.swapSeconds }, 'replay: swapped in');
    return true;
  }

  /**
   * The family's stream, projected into `version` (or into `table`, a bulk load's staging table) and
   * restricted to the replay's devices and time range.
   */
  private async streams(family: ProjectionFamily, version: number, r: ReplayRecord, table?: string) {
    const source = FAMILY_SOURCES[family];
    const base = this.projections[source.stream] as Projection<unknown> | undefined;
    if (!base) throw new Error(`no projection of stream ${source.stream}`);
    // The family's write repository, aimed at the version's tables (`metrics@2`); its materialized views
    // fill that version's rollups.
    const aimed = Object.create(base, {
      table: { value: table ?? pinned(base.table, version) },
    }) as Projection<unknown>;
    const devices = r.devices.length > 0 ? new Set(r.devices) : undefined;
    const { fromMs, toMs } = r;
    const keep = (record: unknown) => {
      const rec = record as RecordOf<StreamName>;
      if (devices && !devices.has(source.device(rec as never) ?? '')) return false;
      const t = source.timeMs(rec as never);
      return (fromMs === null || t >= fromMs) && (toMs === null || t < toMs);
    };
    const filtered = devices || fromMs !== null || toMs !== null;
    const projection: Projection<unknown> = {
      table: aimed.table,
      insert: (records, token) => aimed.insert(filtered ? records.filter(keep) : records, token),
    };
    return sinkStreams(this.codecs, { [source.stream]: projection } as StreamProjections, [source.stream]);
  }

  /** Dead letters of a replay name it: component `replay`, header sentio.replay.id. */
  private taggedDeadLetters(id: string): DeadLetterPublisher {
    const base = this.deadLetters;
    const tagged = Object.create(base) as DeadLetterPublisher;
    tagged.publish = (letters: DeadLetter[]) =>
      base.publish(
        letters.map((l) => ({
          ...l,
          component: 'replay',
          headers: { ...l.headers, [DLQ_REPLAY_HEADER]: id },
        })),
      );
    return tagged;
  }

  private async frontier(family: ProjectionFamily, version: number): Promise<PartitionOffsets | undefined> {
    const rows = await this.replays.frontiers(family, version);
    const topic = this.topicOf(family);
    const mine = rows.filter((f) => f.topic === topic);
    if (mine.length === 0) return undefined;
    return new Map(mine.map((f) => [f.partition, BigInt(f.nextOffset)]));
  }

  private async requireFrontier(family: ProjectionFamily, version: number): Promise<PartitionOffsets> {
    const frontier = await this.frontier(family, version);
    if (!frontier) throw new Error(`version ${version} of ${family} has no frontier`);
    // Partitions added to the topic since: from their beginning.
    const { low } = await watermarks(this.kafka, this.topicOf(family));
    for (const [p, offset] of low) if (!frontier.has(p)) frontier.set(p, offset);
    return frontier;
  }

  /**
   * Where a replay of the topic starts: offsets-for-times of `fromMs` (else the log's start), moved back into
   * the archive where it holds older records of the range.
   */
  private async startOffsets(topic: string, fromMs: number | undefined): Promise<PartitionOffsets> {
    const kafkaStart =
      fromMs === undefined
        ? (await watermarks(this.kafka, topic)).low
        : await offsetsForTime(this.kafka, topic, fromMs);
    const segments = (await this.archive.segments()).filter(
      (s) => s.topic === topic && (fromMs === undefined || s.maxTimestampMs >= fromMs),
    );
    for (const s of segments) {
      const first = BigInt(s.firstOffset);
      if (first < (kafkaStart.get(s.partition) ?? first + 1n)) kafkaStart.set(s.partition, first);
    }
    return kafkaStart;
  }

  /** Where a replay stops: what live ingest has committed, and no later than `toMs` (offsets-for-times). */
  private async endOffsets(topic: string, toMs: number | undefined): Promise<PartitionOffsets> {
    const committed = await committedOffsets(this.kafka, this.ingestGroupId, topic);
    return toMs === undefined
      ? committed
      : minOffsets(await offsetsForTime(this.kafka, topic, toMs), committed);
  }

  /** Live ingest's committed offsets once they stop moving (its writes are held, its last commit lands). */
  private async stableCommitted(topic: string): Promise<PartitionOffsets> {
    let last = await committedOffsets(this.kafka, this.ingestGroupId, topic);
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const next = await committedOffsets(this.kafka, this.ingestGroupId, topic);
      if (sameOffsets(last, next)) return next;
      last = next;
    }
    throw new Error(
      `live ingest (${this.ingestGroupId}) keeps committing ${topic} while its writes are held`,
    );
  }

  private async measuredRate(): Promise<number> {
    const rates = (await this.replays.list())
      .filter((r) => r.state === 'done')
      .map((r) => parseDetail(r.detail).ratePerSecond ?? 0)
      .filter((v) => v > 0);
    return rates.at(-1) ?? this.config.estimateRatePerSecond;
  }

  private inserts = 0;
  private crashIfDue(n: number): void {
    this.inserts = n;
    if (this.inserts < this.config.crashAfterInserts) return;
    killForFaultInjection({ inserts: n }, 'fault injection: killing the replay between insert and commit');
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function minOffsets(a: PartitionOffsets, b: PartitionOffsets): PartitionOffsets {
  const result: PartitionOffsets = new Map();
  for (const [p, offset] of a) {
    const other = b.get(p);
    result.set(p, other !== undefined && other < offset ? other : offset);
  }
  return result;
}

interface ReplayDetail {
  swap?: boolean;
  records?: number;
  ratePerSecond?: number;
  swapped?: boolean;
  error?: string;
}

function parseDetail(detail: string): ReplayDetail {
  try {
    return JSON.parse(detail) as ReplayDetail;
  } catch {
    return {};
  }
}
