import { DEFAULT_MAX_MODEL_BYTES } from './coordinator-defaults.js';

export interface WorkerCommandOptions {
  queue: string;
  queueName: string;
  concurrency: number;
  /** ONNX Runtime intra-op threads per job (classifier.intraOpNumThreads); unset: the config's. */
  threads?: number;
  lockDuration: number;
  stalledInterval: number;
  maxStalled: number;
  modelCache?: string;
  /** Folders under which jobs with `--model-transfer shared` may name their model (none: Redis only). */
  modelRoot?: string[];
  maxModelBytes: number;
  idleSeconds: number;
}

export const WORKER_DEFAULTS = { queueName: 'ablate', concurrency: 1, lockDuration: 15_000, stalledInterval: 5_000, maxStalled: 2, maxModelBytes: DEFAULT_MAX_MODEL_BYTES, idleSeconds: 300 };
