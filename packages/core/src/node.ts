/**
 * `@ablate/core/node` — the Node-only helpers the Node backends share (@ablate/backend-onnx, @ablate/backend-tfjs).
 * A separate entry: neither `@ablate/core` nor `@ablate/core/math` imports it, so the browser entries stay free of
 * Node built-ins (packages/core/test/light-entry.test.ts); this one imports `node:fs`.
 */
export { readModelFile, fileKind, MAX_MODEL_FILE_BYTES } from './node/read-model-file.js';
export { readFully } from './node/read-fully.js';
