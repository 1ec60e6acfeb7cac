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
  /** Fraction of rows re-certified locally (0: no audit). */
  audit: number;
  /** Seed of the audit's choice of rows (default: random, printed). */
  auditSeed?: number;
}

/** Default largest model stored in Redis (bytes): 256 MiB. Larger models go through shared storage. */
export const DEFAULT_MAX_MODEL_BYTES = 256 * 1024 * 1024;

/** Most images one job may carry (a job is retried as a whole, so big jobs waste work when a worker dies). */
export const MAX_JOB_IMAGES = 10_000;

export const COORDINATOR_DEFAULTS = { queueName: 'ablate', jobSize: 4, attempts: 5, backoff: 2000, modelTransfer: 'redis' as const, maxModelBytes: DEFAULT_MAX_MODEL_BYTES, pollMs: 250, redisTimeout: 60, audit: 0 };
