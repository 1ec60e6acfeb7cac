import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { AblateError, ArgumentError } from '@ablate/core';

/** tfjs backends in our order of preference: native TensorFlow (tfjs-node-gpu), WebAssembly, pure JS. */
export const TFJS_BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
/** `tensorflow` (native), `wasm` or `cpu` (pure JS). */
export type TfjsBackendName = (typeof TFJS_BACKENDS)[number];

const require = createRequire(import.meta.url);

/** The package of each non-native backend (optional peers of @ablate/backend-tfjs: install the ones you use). */
export const TFJS_BACKEND_PACKAGES = { wasm: '@tensorflow/tfjs-backend-wasm', cpu: '@tensorflow/tfjs-backend-cpu' } as const;

/** The native TensorFlow bindings, tried in this order for the `tensorflow` backend (both are optional peers). */
export const TFJS_NATIVE_PACKAGES = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'] as const;

/**
 * Makes one tfjs backend available, or explains why not:
 * - `tensorflow`: native libtensorflow through the optional peer @tensorflow/tfjs-node (CPU, multi-threaded), else
 *   @tensorflow/tfjs-node-gpu (CUDA) — whichever is installed and loads;
 * - `wasm`: the optional peer @tensorflow/tfjs-backend-wasm, its .wasm files resolved from node_modules (no network);
 * - `cpu`: the optional peer @tensorflow/tfjs-backend-cpu (pure-JS kernels).
 * A backend package that is not installed is reported as such, with its `npm install` line.
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
        reasons.push(`${peer} ${notInstalled(error) ? 'is not installed' : `failed to load: ${(error as Error).message.split('\n')[0]}`}`);
      }
    }
    throw new Error(reasons.join(', '));
  }
  const pkg = TFJS_BACKEND_PACKAGES[name];
  let loaded: object;
  try {
    // Literal specifiers: each is an optional peer, absent ones are caught below.
    loaded = name === 'wasm' ? await import('@tensorflow/tfjs-backend-wasm') : await import('@tensorflow/tfjs-backend-cpu');
  } catch (error) {
    if (notInstalled(error)) throw new Error(`${pkg} is not installed (npm install ${pkg})`);
    throw error;
  }
  if ('setWasmPaths' in loaded) (loaded as typeof import('@tensorflow/tfjs-backend-wasm')).setWasmPaths(join(dirname(require.resolve(`${pkg}/package.json`)), 'dist') + '/');
}

function notInstalled(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
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
