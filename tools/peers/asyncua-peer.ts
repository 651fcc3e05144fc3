import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Peer } from './peers.js';

/** The asyncua OPC UA server with known variables (tools/peers/opcua_server.py) on a free port. */
export async function startAsyncuaServer(timeoutMs = 30_000): Promise<Peer & { endpointUrl: string }> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  const child = spawn('python3', [resolve(import.meta.dirname, 'opcua_server.py'), String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + timeoutMs;
  // The script prints its banner once the endpoint accepts connections.
  while (!output.includes('asyncua server on')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`opcua_server.py did not start on ${port}:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise<void>((done, fail) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done();
    });
    socket.once('error', fail);
  });
  return {
    port,
    endpointUrl: `opc.tcp://127.0.0.1:${port}/asyncua`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
