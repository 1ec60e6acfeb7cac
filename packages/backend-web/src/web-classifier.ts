import * as ort from 'onnxruntime-web';
import type { WebOnnxPluginOptions } from './plugin.js';
import { AblateError, ArgumentError, ModelError, OnnxSessionClassifier, quote, type ModelIo } from '@ablate/core';

/** Execution providers of onnxruntime-web this backend knows: `webgpu` (browsers that have it) and `wasm` (everywhere). */
export const WEB_EXECUTION_PROVIDERS = ['webgpu', 'wasm'] as const;
/** An onnxruntime-web execution provider: `webgpu` or `wasm`. */
export type WebExecutionProviderName = (typeof WEB_EXECUTION_PROVIDERS)[number];

/** The largest model this backend reads (a path, a URL): 512 MiB; ablate's models are a few MB. */
export const MAX_WEB_MODEL_BYTES = 512 * 1024 * 1024;

/** Fallback warnings already printed in this page/process (each once, however many sessions are created). */

/** Options of `WebOnnxClassifier.create`: a config's `onnx-web` options (the plug-in passes them), plus `baseDir` and `warn`. */
export interface WebOnnxClassifierOptions extends Omit<WebOnnxPluginOptions, 'model'> {
  /**
   * The model: its bytes (Uint8Array / ArrayBuffer), a URL (`URL`, or a string with `http:`, `https:`, `blob:`,
   * `data:`; relative strings resolve against the page in a browser), or in Node a file path (relative to `baseDir`).
   */
  model: string | URL | Uint8Array | ArrayBuffer;
  /** Folder that relative file paths resolve against (Node only). */
  baseDir?: string;
  /** Where the one-time fallback warning goes. Default console.warn. */
  warn?: (message: string) => void;
}

const isNode = () => typeof process !== 'undefined' && typeof process.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
const URL_SCHEME = /^(https?|blob|data|file):/i;

/**
 * Imports a Node built-in by a computed specifier, so that bundlers (vite, esbuild) never put it in a browser
 * app's module graph; only the Node code path (a model given as a file path) ever calls it.
 */
async function nodeModule<T>(name: string): Promise<T> {
  const specifier = `node:${name}`;
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as T;
}

/** Reads a model file in Node: a regular file of at most MAX_WEB_MODEL_BYTES, read whole (a pipe, socket or device is refused, never waited on). */
async function readModelFile(path: string, baseDir: string | undefined): Promise<{ bytes: Uint8Array; source: string }> {
  const { resolve } = await nodeModule<typeof import('node:path')>('path');
  const fs = await nodeModule<typeof import('node:fs/promises')>('fs/promises');
  const source = resolve(baseDir ?? process.cwd(), path);
  const fail = (why: string): never => {
    throw new AblateError('ABLATE_MODEL', `model: cannot read ${source} (${why})`, { field: 'model', hint: 'check the path; relative paths resolve against the config file' });
  };
  let handle: Awaited<ReturnType<typeof fs.open>> | undefined;
  try {
    // non-blocking: opening a FIFO for reading would wait for a writer (forever); it is refused below instead
    handle = await fs.open(source, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as { code?: string }).code;
    fail(code === 'ENOENT' ? 'file not found' : String(code));
  }
  try {
    const stat = await handle!.stat();
    if (!stat.isFile()) fail('not a regular file');
    if (stat.size > MAX_WEB_MODEL_BYTES) fail(`${stat.size} bytes, over the ${MAX_WEB_MODEL_BYTES}-byte limit`);
    const bytes = new Uint8Array(stat.size);
    let at = 0;
    while (at < bytes.length) {
      const { bytesRead } = await handle!.read(bytes, at, bytes.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    if (at !== bytes.length) fail('it changed while being read');
    return { bytes, source };
  } finally {
    await handle!.close();
  }
}

/** Fetches a model URL, refusing a body over MAX_WEB_MODEL_BYTES (checked while streaming, not only by Content-Length). */
async function fetchModel(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new AblateError('ABLATE_MODEL', `model: cannot fetch ${url} (${(error as Error).message})`, { field: 'model', hint: 'check the URL, and that the page may fetch it (same origin or CORS)' });
  }
  if (!response.ok) throw new AblateError('ABLATE_MODEL', `model: fetching ${url} answered HTTP ${response.status}`, { field: 'model', hint: 'check the URL' });
  const tooBig = () => new AblateError('ABLATE_MODEL', `model: ${url} is over the ${MAX_WEB_MODEL_BYTES}-byte limit`, { field: 'model' });
  if (Number(response.headers.get('content-length') ?? 0) > MAX_WEB_MODEL_BYTES) throw tooBig();
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_WEB_MODEL_BYTES) {
      await reader.cancel();
      throw tooBig();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

let threadsConfigured = false;
/** Sets onnxruntime-web's wasm thread count once, before the first session (it cannot change afterwards). */
function configureThreads(numThreads: number): number {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  if (!threadsConfigured) {
    threadsConfigured = true;
    ort.env.wasm.numThreads = numThreads > 0 ? numThreads : isolated && !isNode() ? Math.max(1, Math.min(8, Math.floor(cores / 2))) : 1;
    ort.env.logLevel = 'error';
  }
  return ort.env.wasm.numThreads ?? 1;
}

/**
 * A BaseClassifier backed by an onnxruntime-web InferenceSession: WebAssembly (SIMD; multi-threaded when the page
 * is cross-origin isolated), or WebGPU where the browser has it, falling back to wasm with one warning (the same
 * contract as @ablate/backend-onnx's CUDA → CPU fallback). The same model checks and classify loop as
 * @ablate/backend-onnx (shared through @ablate/core's `resolveModelIo` and `OnnxSessionClassifier`). Runs in Node too.
 */
export class WebOnnxClassifier extends OnnxSessionClassifier {
  readonly type = 'onnx-web';

  private constructor(
    session: ort.InferenceSession,
    io: ModelIo,
    /** The execution provider the session runs on. */
    readonly executionProvider: WebExecutionProviderName,
    /** WebAssembly threads of this page/process (onnxruntime-web's `env.wasm.numThreads`). */
    readonly numThreads: number,
    batchSize: number,
    source: string,
  ) {
    super(ort, session, io, batchSize, source, 'onnxruntime-web');
  }

  /** Loads the model, picks the first usable execution provider (warning once on fallback) and checks its input and output. */
  static async create(options: WebOnnxClassifierOptions): Promise<WebOnnxClassifier> {
    const warn = options.warn ?? ((m: string) => console.warn(m));
    const providers = WebOnnxClassifier.providerList(options.executionProviders, WEB_EXECUTION_PROVIDERS, 'wasm', '["webgpu", "wasm"]');
    const batchSize = WebOnnxClassifier.batchSizeOption(options.batchSize);
    const numThreads = options.numThreads ?? 0;
    if (!Number.isInteger(numThreads) || numThreads < 0 || numThreads > 64) throw new ArgumentError('numThreads', `must be an integer in [0, 64], got ${quote(numThreads)}`);

    const model: unknown = options.model;
    let bytes: Uint8Array;
    let source: string;
    if (model instanceof Uint8Array || model instanceof ArrayBuffer) {
      bytes = model instanceof Uint8Array ? model : new Uint8Array(model);
      if (bytes.byteLength === 0) throw new ArgumentError('model', 'the model bytes are empty');
      source = `<model bytes (${bytes.byteLength} bytes)>`;
    } else if (model instanceof URL || (typeof model === 'string' && model.length > 0)) {
      const text = String(model);
      if (model instanceof URL || URL_SCHEME.test(text) || !isNode()) {
        const url = new URL(text, (globalThis as { location?: { href: string } }).location?.href);
        if (url.protocol === 'file:' && isNode()) {
          const { fileURLToPath } = await nodeModule<typeof import('node:url')>('url');
          ({ bytes, source } = await readModelFile(fileURLToPath(url), undefined));
        } else {
          source = url.href;
          bytes = await fetchModel(url.href);
        }
      } else ({ bytes, source } = await readModelFile(text, options.baseDir));
    } else {
      throw new ArgumentError('model', `must be a path, a URL or the model bytes (a Uint8Array or ArrayBuffer), got ${quote(model)}`);
    }

    const threads = configureThreads(numThreads);
    const base: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', logSeverityLevel: 3 };
    let session: ort.InferenceSession | undefined;
    let remaining = providers;
    const failures: string[] = [];
    while (!session) {
      const provider = remaining[0]!;
      try {
        session = await ort.InferenceSession.create(bytes, { ...base, executionProviders: [provider] });
      } catch (error) {
        const message = String((error as Error)?.message ?? error).split('\n')[0]!;
        if (provider === 'wasm' || /protobuf|pars|invalid model|load model/i.test(message)) {
          throw new ModelError('model', `onnxruntime-web cannot load ${source}: ${message}`, 'is it a valid .onnx file?');
        }
        failures.push(`${provider} (${message})`);
        if (options.strict) {
          throw new AblateError('ABLATE_BACKEND', `executionProviders: "${provider}" is not available: ${message}`, {
            field: 'executionProviders',
            hint: 'use a browser with WebGPU (docs/backends.md) or set strict: false to fall back',
          });
        }
        remaining = remaining.slice(1);
        if (remaining.length === 0) remaining = ['wasm'];
      }
    }
    const chosen = remaining[0]!;
    const warning = `@ablate/backend-web: ${failures.join('; ')} is not available; running on ${chosen}. See docs/backends.md.`;
    if (failures.length) WebOnnxClassifier.warnOnce(warn, warning);
    return new WebOnnxClassifier(session, await WebOnnxClassifier.sessionIo(session, options), chosen, threads, batchSize, source);
  }
}
