import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TelemetrySample } from '@sentio/events';
import { OpcuaServerPeer } from '@sentio/simulator/peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModbusServer, type Peer } from '../../tools/peers/peers.js';
import { sandbox, type Sandbox } from './support/backbone.js';
import { collect, until, type Collected } from './support/connector-harness.js';
import { KafkaCluster } from './support/kafka-cluster.js';
import { freePort, PlatformProcess } from './support/platform-process.js';

const MODBUS = Array.from({ length: 16 }, (_, i) => `m-${String(i + 1).padStart(2, '0')}`);
const OPCUA = Array.from({ length: 8 }, (_, i) => `u-${String(i + 1).padStart(2, '0')}`);
const POLL_MS = 200;
const SESSION_TIMEOUT_MS = 6000;

const connectorsFile = (modbusPort: number, opcuaPort: number, pki: string) => `
connectors:
  - name: line-m
    type: modbus
    reconnect: { initialMs: 200, maxMs: 1000 }
    devices:
${MODBUS.map(
  (id) => `      - id: ${id}
        host: 127.0.0.1
        port: ${modbusPort}
        unitId: 1
        pollIntervalMs: ${POLL_MS}
        points:
          - { metric: flow, table: holding, address: 0, type: float32 }
          - { metric: temperature, table: input, address: 0, scale: 0.1 }`,
).join('\n')}
  - name: line-u
    type: opcua
    endpointUrl: opc.tcp://127.0.0.1:${opcuaPort}/sentio
    pki: { folder: ${pki} }
    reconnect: { initialMs: 200, maxMs: 1000 }
    subscription: { publishingIntervalMs: 200 }
    monitoring: { samplingIntervalMs: 100, queueSize: 10 }
    browse:
      - path: Plant/{device}/{metric}
`;

interface Health {
  components: Record<string, { state: string; detail?: Record<string, unknown> }>;
}

/** The devices a process reads now, from its own /health: its pollers and its monitored OPC UA devices. */
async function devicesOf(
  p: PlatformProcess,
): Promise<{ modbus: string[]; opcua: string[]; slots: number[] }> {
  const health = (await (await fetch(`${p.baseUrl}/health`)).json()) as Health;
  const modbus = (health.components['connector:line-m']?.detail?.['devices'] ?? []) as Array<{ id: string }>;
  const opcua = (health.components['connector:line-u']?.detail?.['devices'] ?? []) as string[];
  const slots = (health.components['connectors-group']?.detail?.['slots'] ?? []) as number[];
  return { modbus: modbus.map((d) => d.id), opcua, slots };
}

/** Every device read by exactly one of the processes, or why not. */
async function partition(processes: PlatformProcess[]): Promise<string | Map<PlatformProcess, string[]>> {
  const owners = new Map<string, number>();
  const byProcess = new Map<PlatformProcess, string[]>();
  for (const p of processes) {
    const { modbus, opcua } = await devicesOf(p);
    byProcess.set(p, [...modbus, ...opcua]);
    for (const id of [...modbus, ...opcua]) owners.set(id, (owners.get(id) ?? 0) + 1);
  }
  const twice = [...owners].filter(([, n]) => n > 1).map(([id]) => id);
  const missing = [...MODBUS, ...OPCUA].filter((id) => !owners.has(id));
  if (twice.length > 0 || missing.length > 0) return `read twice: ${twice}; read by none: ${missing}`;
  return byProcess;
}

/**
 * What two readers of one device leave in the data, within [from, to): Modbus samples of a series closer
 * than half the poll interval, an OPC UA value twice; and series that pause longer than `pauseMs`.
 */
function readTwiceOrPaused(
  telemetry: TelemetrySample[],
  [from, to]: [number, number],
  pauseMs: number,
): string[] {
  const series = new Map<string, number[]>();
  for (const s of telemetry) {
    if (s.timestampMs < from || s.timestampMs >= to) continue;
    const key = `${s.deviceId}/${s.metric}`;
    series.set(key, [...(series.get(key) ?? []), s.timestampMs]);
  }
  const problems: string[] = [];
  for (const id of [...MODBUS, ...OPCUA]) {
    for (const metric of id.startsWith('m-') ? ['flow', 'temperature'] : ['level']) {
      const inside = (series.get(`${id}/${metric}`) ?? []).sort((a, b) => a - b);
      if (inside.length === 0) problems.push(`${id}/${metric}: nothing in [${from}, ${to})`);
      for (let i = 1; i < inside.length; i++) {
        const gap = inside[i]! - inside[i - 1]!;
        if (id.startsWith('m-') ? gap < POLL_MS / 2 : gap === 0)
          problems.push(`${id}/${metric}: read twice at ${inside[i]} (${gap} ms apart)`);
        if (gap > pauseMs) problems.push(`${id}/${metric}: nothing for ${gap} ms before ${inside[i]}`);
      }
    }
  }
  return problems;
}

/**
 * Connectors scaled out by a consumer group: three real connector processes (`sentio run connectors`)
 * share one connectors file of 16 Modbus devices (pymodbus peer) and 8 OPC UA devices (node-opcua server,
 * browsed), one is SIGKILLed while all of them poll, and its devices are taken over by the survivors.
 * Checked: /health of every process (each device read by exactly one live process, before and after),
 * and the telemetry in Kafka (no device read twice: Modbus samples never closer than half the poll
 * interval, no OPC UA value published twice; every device keeps delivering). The take-over time (kill to
 * the first sample of each of the victim's devices) is printed. On a three-broker KRaft cluster of its own
 * (replication factor 3, min.insync.replicas 2).
 */
describe('connectors scaled out by a consumer group', () => {
  let box: Sandbox;
  let cluster: KafkaCluster | undefined;
  let modbus: Peer;
  let opcua: OpcuaServerPeer;
  let got: Collected;
  let ticker: NodeJS.Timeout | undefined;
  const processes: PlatformProcess[] = [];
  let env: Record<string, string>;
  const folder = mkdtempSync(join(tmpdir(), 'sentio-scale-connectors-'));

  beforeAll(async () => {
    cluster = await KafkaCluster.start('scale-connectors');
    box = await sandbox('scale_connectors');
    modbus = await startModbusServer();
    opcua = await OpcuaServerPeer.start({
      port: await freePort(),
      pkiFolder: join(folder, 'server-pki'),
      addressSpace: 'mini',
    });
    let tick = 0;
    const publish = () => {
      tick++;
      for (const id of OPCUA) opcua.set(id, 'level', tick);
    };
    publish();
    ticker = setInterval(publish, 200);
    got = await collect(box);
    const file = join(folder, 'connectors.yaml');
    writeFileSync(
      file,
      connectorsFile(modbus.port, Number(new URL(opcua.endpointUrl).port), join(folder, 'pki')),
    );
    env = {
      ...box.env,
      SENTIO_CONNECTORS_FILE: file,
      SENTIO_CONNECTORS_GROUP: `connectors-${box.namespace}`,
      SENTIO_CONNECTORS_GROUP_SLOTS: '24',
      SENTIO_CONNECTORS_GROUP_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
    };
    // The first creates the OPC UA client certificate the others then find in the shared PKI folder.
    processes.push(await PlatformProcess.start('connectors', env, 'connectors-group', 240_000));
    processes.push(
      ...(await Promise.all(
        [1, 2].map(() => PlatformProcess.start('connectors', env, 'connectors-group', 240_000)),
      )),
    );
  }, 600_000);

  afterAll(async () => {
    clearInterval(ticker);
    await Promise.all(processes.map((p) => p.stop()));
    await got?.consumer.disconnect();
    await modbus?.stop();
    await opcua?.stop();
    rmSync(folder, { recursive: true, force: true });
    await cluster?.stop();
  }, 180_000);

  it('reads each device in exactly one live process, and takes over a killed one within seconds', async () => {
    const waitPartition = async (live: PlatformProcess[], what: string) => {
      let last: string | Map<PlatformProcess, string[]>;
      const deadline = Date.now() + 60_000;
      for (;;) {
        last = await partition(live);
        if (typeof last !== 'string') return last;
        if (Date.now() > deadline) throw new Error(`${what}: ${last}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    const before = await waitPartition(processes, 'three members sharing the devices');
    for (const p of processes) expect((await devicesOf(p)).slots.length).toBe(8);
    const stableAt = Date.now() + 1000; // an in-flight read of a device just handed over ends within this
    await new Promise((r) => setTimeout(r, 5000));

    // The victim reads devices of both kinds (with 24 slots over 24 devices one always does).
    const victim = processes
      .filter((p) => before.get(p)!.some((id) => id.startsWith('m-')))
      .filter((p) => before.get(p)!.some((id) => id.startsWith('u-')))
      .sort((a, b) => before.get(b)!.length - before.get(a)!.length)[0]!;
    expect(victim).toBeDefined();
    const orphans = before.get(victim)!;
    const killAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited();
    const survivors = processes.filter((p) => p !== victim);

    // Take-over: from the kill to the first sample of each orphaned device read by a survivor.
    const firstAfter = (id: string) =>
      got.telemetry.find((s) => s.deviceId === id && s.timestampMs > killAt)?.timestampMs;
    await until(
      'every device of the killed process read again',
      () => orphans.every((id) => firstAfter(id) !== undefined),
      () => orphans.filter((id) => firstAfter(id) === undefined),
    );
    const takeover = orphans.map((id) => firstAfter(id)! - killAt).sort((a, b) => a - b);
    const after = await waitPartition(survivors, 'two members sharing the devices');
    for (const p of survivors) {
      // Sticky: a survivor kept every device it read before and only gained.
      expect(after.get(p)).toEqual(expect.arrayContaining(before.get(p)!));
    }
    const settledAt = Date.now() + 1000;
    await new Promise((r) => setTimeout(r, 5000));
    const endAt = Date.now() - 1000; // samples still on their way to Kafka are not counted as missing

    const report = {
      processes: processes.length,
      devices: { modbus: MODBUS.length, opcua: OPCUA.length },
      killedDevices: orphans.length,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      takeoverMs: {
        min: takeover[0],
        median: takeover[Math.floor(takeover.length / 2)],
        max: takeover.at(-1),
      },
    };
    console.log(`scale-connectors take-over: ${JSON.stringify(report)}`);
    expect(takeover.at(-1)!).toBeLessThan(SESSION_TIMEOUT_MS + 10_000);

    // Exactly one reader in the steady windows, seen in the data itself.
    expect(readTwiceOrPaused(got.telemetry, [stableAt, killAt], 3000)).toEqual([]);
    expect(readTwiceOrPaused(got.telemetry, [settledAt, endAt], 3000)).toEqual([]);
  }, 240_000);

  it('takes in a joining member, hands devices on when one stops, and fences a stalled one: none read twice', async () => {
    const live = processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    expect(live).toHaveLength(2);
    const before = await partition(live);
    expect(typeof before).not.toBe('string');

    // Scale out under load: the newcomer's share moves from live members, each device after its last read.
    const joinFrom = Date.now();
    const joining = await PlatformProcess.start('connectors', env, 'connectors-group', 240_000);
    processes.push(joining);
    const deadline = Date.now() + 60_000;
    let shared = await partition([...live, joining]);
    while (typeof shared === 'string' || shared.get(joining)!.length === 0) {
      if (Date.now() > deadline) throw new Error(`the newcomer got no devices: ${String(shared)}`);
      await new Promise((r) => setTimeout(r, 200));
      shared = await partition([...live, joining]);
    }
    const moved = shared.get(joining)!;
    await new Promise((r) => setTimeout(r, 4000));
    const joinTo = Date.now() - 1000;
    // A moved device pauses for the hand-over time (2 s by default) plus the newcomer's first connect.
    expect(readTwiceOrPaused(got.telemetry, [joinFrom, joinTo], 6000)).toEqual([]);
    const gaps = moved.map((id) => {
      const times = got.telemetry
        .filter((s) => s.deviceId === id && s.timestampMs >= joinFrom && s.timestampMs < joinTo)
        .map((s) => s.timestampMs)
        .sort((a, b) => a - b);
      return Math.max(...times.slice(1).map((t, i) => t - times[i]!));
    });
    console.log(
      `scale-connectors join: ${JSON.stringify({ movedDevices: moved.length, longestPauseMs: Math.max(...gaps) })}`,
    );

    // Scale in: a member stopped with SIGTERM leaves the group at once, no session timeout to wait out.
    const leaving = live[0]!;
    const staying = [live[1]!, joining];
    const stopAt = Date.now();
    expect(await leaving.stop()).toBe(0);
    let after = await partition(staying);
    while (typeof after === 'string') {
      if (Date.now() - stopAt > 60_000) throw new Error(`after a member stopped: ${after}`);
      await new Promise((r) => setTimeout(r, 100));
      after = await partition(staying);
    }
    const handoverMs = Date.now() - stopAt;
    console.log(`scale-connectors graceful hand-over: ${JSON.stringify({ handoverMs })}`);
    expect(handoverMs).toBeLessThan(SESSION_TIMEOUT_MS);

    // A stalled member (SIGSTOP past the session timeout): the other takes its devices; when it wakes, its
    // timers are overdue, but every read first checks the membership, so it reads nothing it lost.
    const [stalled, awake] = staying as [PlatformProcess, PlatformProcess];
    stalled.child.kill('SIGSTOP');
    const stallAt = Date.now();
    try {
      await awake.waitFor(async () => {
        const { modbus: m, opcua: u } = await devicesOf(awake);
        return m.length === MODBUS.length && u.length === OPCUA.length;
      });
    } finally {
      stalled.child.kill('SIGCONT');
    }
    const stallTakeoverMs = Date.now() - stallAt;
    let rejoined = await partition(staying);
    while (typeof rejoined === 'string' || rejoined.get(stalled)!.length === 0) {
      if (Date.now() - stallAt > 90_000)
        throw new Error(`the stalled member never came back: ${String(rejoined)}`);
      await new Promise((r) => setTimeout(r, 200));
      rejoined = await partition(staying);
    }
    console.log(`scale-connectors stalled member: ${JSON.stringify({ stallTakeoverMs })}`);

    // Over the whole run (start-up joins, the kill, the join, the stop, the stall): never a device read twice.
    await new Promise((r) => setTimeout(r, 2000));
    expect(readTwiceOrPaused(got.telemetry, [0, Date.now() - 1000], Infinity)).toEqual([]);
  }, 240_000);
});
