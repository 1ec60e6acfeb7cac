import { definePlugin, MAX_BATCH_SIZE, registry } from '@ablate/core';
import { KNOWN_EXECUTION_PROVIDERS, OnnxClassifier, type ExecutionProviderName, type OnnxClassifierOptions } from './onnx-classifier.js';

/** The options of `"classifier": { "type": "onnx", … }` in a config (JSON Schema: `onnxPlugin.schema`). */
export interface OnnxPluginOptions {
  /**
   * Path to the .onnx file, relative to `baseDir` (in a config: the config file's folder, createContainer's
   * `baseDir`), or the model's bytes (a Uint8Array or Buffer, from code).
   */
  model: string | Uint8Array;
  /** Execution providers in order of preference, e.g. ["cuda", "cpu"] (default `["cpu"]`); unavailable ones fall back unless `strict`. */
  executionProviders?: readonly ExecutionProviderName[];
  /** Fail instead of falling back when a provider is unavailable (default false). */
  strict?: boolean;
  /** Threads inside one operator (0 = ONNX Runtime's default: all cores). */
  intraOpNumThreads?: number;
  /** Threads across independent operators (0 = default). */
  interOpNumThreads?: number;
  /** Samples per `classify` call the engine should use (default 1000). */
  batchSize?: number;
  /** Input / output names; default: the model's first input and first output. */
  inputName?: string;
  outputName?: string;
}

declare module '@ablate/core' {
  interface ClassifierOptionsMap {
    /** ONNX Runtime (@ablate/backend-onnx). */
    onnx: OnnxPluginOptions;
  }
}

/** `"classifier": { "type": "onnx", "model": "…", "executionProviders": ["cuda", "cpu"], … }` */
export const onnxPlugin = definePlugin<'classifier', Omit<OnnxClassifierOptions, 'baseDir' | 'warn'>>({
  kind: 'classifier',
  type: 'onnx',
  description: 'ONNX Runtime (onnxruntime-node): CUDA when enabled, CPU otherwise.',
  schema: {
    required: ['model'],
    properties: {
      model: {
        anyOf: [{ type: 'string', minLength: 1 }, { binary: true }],
        description: 'Path to the .onnx file (relative paths resolve against the config file’s folder — createContainer’s baseDir, default the working directory), or the model bytes (a Uint8Array or Buffer, from code).',
      },
      executionProviders: { type: 'array', minItems: 1, items: { enum: [...KNOWN_EXECUTION_PROVIDERS] }, default: ['cpu'], description: 'In order of preference. cpu everywhere; webgpu on Windows, macOS, Linux x64; cuda, tensorrt on Linux x64; dml on Windows; coreml on macOS. A provider this platform lacks is refused; one whose libraries are missing falls back to the next unless strict.' },
      strict: { type: 'boolean', default: false, description: 'Fail instead of falling back when a provider is unavailable.' },
      intraOpNumThreads: { type: 'integer', minimum: 0 },
      interOpNumThreads: { type: 'integer', minimum: 0 },
      batchSize: { type: 'integer', minimum: 1, maximum: MAX_BATCH_SIZE, default: 1000 },
      inputName: { type: 'string' },
      outputName: { type: 'string' },
    },
  },
  create: (options, ctx) => OnnxClassifier.create({ ...options, baseDir: ctx.baseDir, warn: ctx.warn }),
});

/** Registers the `onnx` classifier in @ablate/core's registry (idempotent). Called on import. */
export function registerOnnx(): void {
  if (!registry.get('classifier', 'onnx')) registry.register(onnxPlugin, { provider: '@ablate/backend-onnx' });
}
