import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import type { Logger } from '@sentio/observability';
import * as tf from '@tensorflow/tfjs';

export type TfBackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface TfBackendInfo {
  backend: TfBackendName;
  simd: boolean;
  threads: boolean;
}

export interface TfBackendOptions {
  /** Backends to try, in order; unavailable ones are skipped. Default: tensorflow (if installed), wasm, cpu. */
  prefer?: readonly TfBackendName[];
}

let ready: Promise<TfBackendInfo> | undefined;

/**
 * Picks the TF.js backend once per process. The native binding (@tensorflow/tfjs-node) is the fastest but
 * optional: it needs a prebuilt libtensorflow that cannot be installed everywhere, so it is only used when it
 * resolves. WebAssembly is the default: several times faster than the pure-JS cpu backend for the small dense
 * models used here, and it ships as plain .wasm files inside the npm package. The cpu backend always works.
 */
export function initTfBackend(logger: Logger, options: TfBackendOptions = {}): Promise<TfBackendInfo> {
  ready ??= select(logger, options.prefer ?? ['tensorflow', 'wasm', 'cpu']).catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

async function select(logger: Logger, prefer: readonly TfBackendName[]): Promise<TfBackendInfo> {
  const require = createRequire(import.meta.url);
  for (const name of prefer) {
    try {
      if (name === 'tensorflow') {
        if (!resolves(require, '@tensorflow/tfjs-node')) continue;
        // The binding registers itself as the 'tensorflow' backend when imported.
        await import('@tensorflow/tfjs-node' as string);
      } else if (name === 'wasm') {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        // In Node the .wasm binaries are read from disk: point the loader at the package's dist folder.
        const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
        wasm.setWasmPaths(dist + sep);
      }
      if (!(await tf.setBackend(name))) continue;
      await tf.ready();
      const info: TfBackendInfo = {
        backend: name,
        simd: name === 'wasm' && Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
        // TF.js disables wasm threads under Node (tfjs#3830); reported so the log says why it is single-threaded.
        threads: name === 'wasm' && Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
      };
      logger.info({ ...info, tfjs: tf.version.tfjs }, `tf.js backend: ${name}`);
      return info;
    } catch (error) {
      logger.warn({ err: error, backend: name }, `tf.js backend ${name} unavailable, trying the next`);
    }
  }
  throw new Error(`no tf.js backend could start (tried ${prefer.join(', ')})`);
}

function resolves(require: NodeJS.Require, name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}
