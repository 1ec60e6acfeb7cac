import { definePlugin, MAX_BATCH_SIZE, registry } from '@ablate/core';
import { TfjsClassifier, type TfjsClassifierOptions } from './tfjs-classifier.js';
import { TFJS_BACKENDS, type TfjsBackendName } from './tfjs-backends.js';

/** The options of `"classifier": { "type": "tfjs", … }` in a config (JSON Schema: `tfjsPlugin.schema`). */
export interface TfjsPluginOptions {
  /** Folder (or model.json) of a LayersModel or GraphModel, relative to the config file's folder (createContainer's `baseDir`). */
  model: string;
  /** tfjs backends in order of preference (default `["tensorflow", "wasm", "cpu"]`). */
  backends?: readonly TfjsBackendName[];
  /** Tensor layout the model takes (default `"NHWC"`). */
  layout?: 'NHWC' | 'NCHW';
  /** Samples per `classify` call (default 256). */
  batchSize?: number;
}

declare module '@ablate/core' {
  interface ClassifierOptionsMap {
    /** TensorFlow.js (@ablate/backend-tfjs). */
    tfjs: TfjsPluginOptions;
  }
}

/** `"classifier": { "type": "tfjs", "model": "models/x-tfjs", "backends": ["tensorflow", "wasm", "cpu"] }` */
export const tfjsPlugin = definePlugin<'classifier', Omit<TfjsClassifierOptions, 'baseDir' | 'warn'>>({
  kind: 'classifier',
  type: 'tfjs',
  description: 'TensorFlow.js: tfjs-node-gpu when installed, else WebAssembly, else pure-JS CPU.',
  schema: {
    required: ['model'],
    properties: {
      model: { type: 'string', minLength: 1, description: 'Folder (or model.json) of a LayersModel or GraphModel (relative paths resolve against the config file’s folder — createContainer’s baseDir, default the working directory).' },
      backends: { type: 'array', minItems: 1, items: { enum: [...TFJS_BACKENDS] }, default: [...TFJS_BACKENDS] },
      layout: { enum: ['NHWC', 'NCHW'], default: 'NHWC' },
      batchSize: { type: 'integer', minimum: 1, maximum: MAX_BATCH_SIZE, default: 256 },
    },
  },
  create: (options, ctx) => TfjsClassifier.create({ ...options, baseDir: ctx.baseDir, warn: ctx.warn }),
});

/** Registers the `tfjs` classifier in @ablate/core's registry (idempotent). Called on import. */
export function registerTfjs(): void {
  if (!registry.get('classifier', 'tfjs')) registry.register(tfjsPlugin, { provider: '@ablate/backend-tfjs' });
}
