import { definePlugin, MAX_BATCH_SIZE, registry } from '@ablate/core';
import { WEB_EXECUTION_PROVIDERS, WebOnnxClassifier, type WebExecutionProviderName, type WebOnnxClassifierOptions } from './web-classifier.js';

/** The options of `"classifier": { "type": "onnx-web", … }` in a config (JSON Schema: `webOnnxPlugin.schema`). */
export interface WebOnnxPluginOptions {
  /**
   * A URL (in a browser, relative to the page), a file path in Node (relative to the config's folder), or the model
   * bytes (a Uint8Array, from code). `WebOnnxClassifier.create` also takes a `URL` object or an ArrayBuffer.
   */
  model: string | Uint8Array;
  /** Execution providers in order of preference, e.g. ["webgpu", "wasm"] (default `["wasm"]`); unavailable ones fall back unless `strict`. */
  executionProviders?: readonly WebExecutionProviderName[];
  /** Fail instead of falling back when a provider is unavailable (default false). */
  strict?: boolean;
  /**
   * WebAssembly threads (onnxruntime-web's `env.wasm.numThreads`, set once per page before the first session):
   * 0 = automatic (multi-threaded when the page is cross-origin isolated, else 1; 1 in Node). Default 0.
   */
  numThreads?: number;
  /** Samples per `classify` call the engine should use (default 1000). */
  batchSize?: number;
  /** Input / output names; default: the model's first input and first output. */
  inputName?: string;
  outputName?: string;
}

declare module '@ablate/core' {
  interface ClassifierOptionsMap {
    /** onnxruntime-web (@ablate/backend-web). */
    'onnx-web': WebOnnxPluginOptions;
  }
}

/** `"classifier": { "type": "onnx-web", "model": "…", "executionProviders": ["webgpu", "wasm"], … }` */
export const webOnnxPlugin = definePlugin<'classifier', Omit<WebOnnxClassifierOptions, 'baseDir' | 'warn'>>({
  kind: 'classifier',
  type: 'onnx-web',
  description: 'onnxruntime-web: WebAssembly (SIMD, threads when cross-origin isolated) or WebGPU, in a browser or Node.',
  schema: {
    required: ['model'],
    properties: {
      model: {
        anyOf: [{ type: 'string', minLength: 1 }, { binary: true }],
        description: 'A URL of the .onnx file (relative to the page in a browser), a file path in Node (relative to the config file’s folder), or the model bytes (from code).',
      },
      executionProviders: { type: 'array', minItems: 1, items: { enum: [...WEB_EXECUTION_PROVIDERS] }, default: ['wasm'] },
      strict: { type: 'boolean', default: false, description: 'Fail instead of falling back when a provider is unavailable.' },
      numThreads: { type: 'integer', minimum: 0, maximum: 64, default: 0 },
      batchSize: { type: 'integer', minimum: 1, maximum: MAX_BATCH_SIZE, default: 1000 },
      inputName: { type: 'string' },
      outputName: { type: 'string' },
    },
  },
  create: (options, ctx) => WebOnnxClassifier.create({ ...options, baseDir: ctx.baseDir, warn: ctx.warn }),
});

/** Registers the `onnx-web` classifier in @ablate/core's registry (idempotent). Called on import. */
export function registerWebOnnx(): void {
  if (!registry.get('classifier', 'onnx-web')) registry.register(webOnnxPlugin, { provider: '@ablate/backend-web' });
}
