/** Flags of a distributed certify / predict (besides the usual ones); see docs/distributed.md. */
export interface DistributedOptions {
  queue: string;
  queueName: string;
  jobSize: number;
  attempts: number;
  backoff: number;
  modelTransfer: 'redis' | 'shared';
  maxModelBytes: number;
  runId?: string;
  pollMs: number;
  redisTimeout: number;
}

/** Default largest model stored in Redis (bytes): 256 MiB. Larger models go through shared storage. */
export const DEFAULT_MAX_MODEL_BYTES = 256 * 1024 * 1024;

export const COORDINATOR_DEFAULTS = { queueName: 'ablate', jobSize: 4, attempts: 5, backoff: 2000, modelTransfer: 'redis' as const, maxModelBytes: DEFAULT_MAX_MODEL_BYTES, pollMs: 250, redisTimeout: 60 };
