import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { AblateError, ArgumentError } from '@ablate/core';

/** tfjs backends in our order of preference: native TensorFlow (tfjs-node-gpu), WebAssembly, pure JS. */
export const TFJS_BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
/** `tensorflow` (native), `wasm` or `cpu` (pure JS). */
export type TfjsBackendName = (typeof TFJS_BACKENDS)[number];

const require = createRequire(import.meta.url);

/** The native TensorFlow bindings, tried in this order for the `tensorflow` backend (both are optional peers). */
export const TFJS_NATIVE_PACKAGES = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'] as const;

/**
 * Makes one tfjs backend available, or explains why not:
 * - `tensorflow`: native libtensorflow through the optional peer @tensorflow/tfjs-node (CPU, multi-threaded), else
 *   @tensorflow/tfjs-node-gpu (CUDA) — whichever is installed and loads;
 * - `wasm`: @tensorflow/tfjs-backend-wasm, its .wasm files resolved from node_modules (no network);
 * - `cpu`: the pure-JS kernels bundled with @tensorflow/tfjs.
 */
async function prepare(name: TfjsBackendName): Promise<void> {
  if (name === 'tensorflow') {
    const reasons: string[] = [];
    for (const peer of TFJS_NATIVE_PACKAGES) {
      try {
        // A non-literal specifier keeps bundlers from resolving the optional peer at build time.
        await import(peer as string);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        reasons.push(`${peer} ${code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' ? 'is not installed' : `failed to load: ${(error as Error).message.split('\n')[0]}`}`);
      }
    }
    throw new Error(reasons.join(', '));
  }
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
    wasm.setWasmPaths(dist);
  }
}

/**
 * Activates the first backend of `order` that loads, and returns its name with the reasons the earlier ones
 * were skipped. Throws when none loads.
 */
export async function selectBackend(order: readonly TfjsBackendName[]): Promise<{ backend: TfjsBackendName; skipped: string[] }> {
  if (order.length === 0) throw new ArgumentError('backends', 'must list at least one backend', `e.g. ${JSON.stringify(TFJS_BACKENDS)}`);
  const skipped: string[] = [];
  for (const name of order) {
    if (!(TFJS_BACKENDS as readonly string[]).includes(name)) {
      throw new ArgumentError('backends', `unknown tfjs backend "${name}"`, `use ${TFJS_BACKENDS.join(', ')}`);
    }
    try {
      await prepare(name);
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { backend: name, skipped };
      }
      skipped.push(`${name} (failed to initialize)`);
    } catch (error) {
      skipped.push(`${name} (${(error as Error).message.split('\n')[0]})`);
    }
  }
  throw new AblateError('ABLATE_BACKEND', `backends: none of ${order.join(', ')} could be loaded: ${skipped.join('; ')}`, { field: 'backends' });
}
