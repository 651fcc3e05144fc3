import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { accepts, freePort } from '../cli/src/process.util.js';

const here = import.meta.dirname;

/** A peer process (broker, device simulator) started for a test and owned by it. */
export interface Peer {
  port: number;
  stop(): Promise<void>;
}

async function startPeer(
  command: string,
  args: (port: number) => string[],
  timeoutMs = 30_000,
): Promise<Peer> {
  const port = await freePort();
  const child: ChildProcess = spawn(command, args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${command} did not listen on ${port}:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Mosquitto on a free port (tools/peers/mosquitto.sh). */
export function startMosquitto(): Promise<Peer> {
  return startPeer(resolve(here, 'mosquitto.sh'), (port) => [String(port)]);
}

/** The pymodbus server with known registers (tools/peers/modbus_server.py). */
export function startModbusServer(): Promise<Peer> {
  return startPeer('python3', (port) => [resolve(here, 'modbus_server.py'), String(port)]);
}
