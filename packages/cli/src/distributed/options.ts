import { Command, InvalidArgumentError, Option } from 'commander';
import type { DatasetRunOptions } from '../commands/run-dataset.js';
import { COORDINATOR_DEFAULTS, MAX_JOB_IMAGES, type DistributedOptions } from './coordinator-defaults.js';
import { WORKER_DEFAULTS, type WorkerCommandOptions } from './worker-defaults.js';

// The distributed mode's flags. This file imports neither BullMQ nor ioredis: they load only when --queue or
// `ablate worker` is used, so `ablate --help` and local runs stay fast and work without them installed.

const int = (flag: string, min: number, max = Number.MAX_SAFE_INTEGER) => (value: string) => {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) throw new InvalidArgumentError(`${flag} must be an integer ≥ ${min}, got "${value}"`);
  if (Number(value) > max) throw new InvalidArgumentError(`${flag} must be at most ${max}${flag === '--job-size' ? ' (the most a worker accepts per job)' : max === MAX_TIMER_MS ? ' ms (the longest timer Node.js keeps)' : ''}, got "${value}"`);
  return Number(value);
};

/** A BullMQ queue name: non-empty, no ':' (BullMQ's key separator), printable, at most 100 characters. */
const queueName = (value: string) => {
  if (value === '' || value.length > 100 || /[:\s\p{Cc}]/u.test(value)) {
    throw new InvalidArgumentError(`--queue-name must be 1–100 printable characters without ':' or spaces, got ${JSON.stringify(value)}`);
  }
  return value;
};

/** The fraction of rows the coordinator re-certifies locally: a number in [0, 1]. */
const fraction = (value: string) => {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0 || x > 1) throw new InvalidArgumentError(`--audit must be a fraction in [0, 1], got "${value}"`);
  return x;
};

/**
 * The longest delay a Node.js timer keeps (2³¹ − 1 ms, about 24.8 days): a longer one fires after 1 ms, so a huge
 * --poll-ms or --lock-duration would spin instead of waiting.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Bounds of the counts a flag may ask for: attempts per job, jobs at a time, ONNX Runtime threads per job. */
const MAX_ATTEMPTS = 100;
const MAX_CONCURRENCY = 256;
const MAX_THREADS = 1024;

const collect = (value: string, previous: string[] = []) => [...previous, value];

type Io = { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream };

/** Loads the distributed implementation, or says how to install BullMQ (an optional peer dependency of @ablate/cli). */
async function load<T>(what: () => Promise<T>): Promise<T> {
  try {
    return await what();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && /bullmq|ioredis/.test((error as Error).message)) {
      const { UsageError } = await import('../errors.js'); // (errors.js loads @ablate/core: not at start-up)
      throw new UsageError('--queue', 'distributed runs need the packages bullmq and ioredis', 'npm install bullmq ioredis (next to @ablate/cli)');
    }
    throw error;
  }
}

/** Adds the coordinator flags to certify / predict. */
export function addQueueOptions(cmd: Command): Command {
  return cmd
    .option('--queue <url>', 'distribute over workers: redis://[user:password@]host:port[/db] or rediss:// (see docs/distributed.md)')
    .option('--queue-name <name>', 'BullMQ queue the workers listen on', queueName, COORDINATOR_DEFAULTS.queueName)
    .option('--job-size <N>', `images per job (at most ${MAX_JOB_IMAGES})`, int('--job-size', 1, MAX_JOB_IMAGES), COORDINATOR_DEFAULTS.jobSize)
    .option('--attempts <N>', 'attempts per job before the run fails', int('--attempts', 1, MAX_ATTEMPTS), COORDINATOR_DEFAULTS.attempts)
    .option('--backoff <ms>', 'delay before the first retry of a failed job, doubled each time', int('--backoff', 0, MAX_TIMER_MS), COORDINATOR_DEFAULTS.backoff)
    .addOption(new Option('--model-transfer <how>', 'redis: model bytes stored in Redis once; shared: the model path is valid on every worker').choices(['redis', 'shared']).default(COORDINATOR_DEFAULTS.modelTransfer))
    .option('--max-model-bytes <B>', 'largest model stored in Redis', int('--max-model-bytes', 1), COORDINATOR_DEFAULTS.maxModelBytes)
    .option('--run-id <name>', 'names the run in Redis (default: from this host and the --out path)')
    .option('--poll-ms <ms>', 'how often finished jobs are collected', int('--poll-ms', 10, MAX_TIMER_MS), COORDINATOR_DEFAULTS.pollMs)
    .option('--redis-timeout <s>', 'fail when Redis is unreachable this long', int('--redis-timeout', 1), COORDINATOR_DEFAULTS.redisTimeout)
    .option('--audit <fraction>', 're-certify this fraction of the workers’ rows locally; any difference fails the run', fraction, COORDINATOR_DEFAULTS.audit)
    .option('--audit-seed <N>', 'seed of the audit’s choice of rows (default: random, printed)', int('--audit-seed', 0));
}

/** certify / predict: the distributed coordinator when --queue is given, else the local run. */
export function queueOrLocal(kind: 'certify' | 'predict', local: (kind: 'certify' | 'predict', o: DatasetRunOptions, io: Io) => Promise<void>, io: Io) {
  return async (o: DatasetRunOptions & Partial<DistributedOptions>) => {
    if (!o.queue) return local(kind, o, io);
    const { runDistributed } = await load(() => import('./coordinator.js'));
    return runDistributed(kind, o as DatasetRunOptions & DistributedOptions, io);
  };
}

/** `ablate worker --queue URL …` */
export function addWorkerCommand(program: Command, io: Io, loadPlugins: () => Promise<void> = async () => {}): void {
  program
    .command('worker')
    .description('serve jobs of distributed certify/predict runs from a Redis queue (BullMQ) until SIGINT/SIGTERM')
    .requiredOption('--queue <url>', 'redis://[user:password@]host:port[/db] or rediss://')
    .option('--queue-name <name>', 'BullMQ queue to serve', queueName, WORKER_DEFAULTS.queueName)
    .option('--concurrency <N>', 'jobs at a time in this process (one loaded model copy each)', int('--concurrency', 1, MAX_CONCURRENCY), WORKER_DEFAULTS.concurrency)
    .option('--threads <T>', 'ONNX Runtime intra-op threads per job (e.g. cores ÷ concurrency; does not change rows)', int('--threads', 1, MAX_THREADS))
    .option('--lock-duration <ms>', 'a job whose worker stops renewing its lock this long is retried elsewhere', int('--lock-duration', 1000, MAX_TIMER_MS), WORKER_DEFAULTS.lockDuration)
    .option('--stalled-interval <ms>', 'how often this worker looks for stalled jobs', int('--stalled-interval', 100, MAX_TIMER_MS), WORKER_DEFAULTS.stalledInterval)
    .option('--max-stalled <N>', 'times a job may stall (its worker died) before it fails', int('--max-stalled', 0), WORKER_DEFAULTS.maxStalled)
    .option('--model-cache <dir>', 'private folder (owned by this user, not writable by others) for models fetched from Redis (default: $XDG_CACHE_HOME or ~/.cache, /ablate/models)')
    .option('--model-root <dir>', 'a folder under which jobs may name their model (--model-transfer shared) or dataset folder by path; repeatable; none: models only from Redis, datasets only built in', collect)
    .option('--max-model-bytes <B>', 'largest model this worker fetches from Redis', int('--max-model-bytes', 1), WORKER_DEFAULTS.maxModelBytes)
    .option('--idle-seconds <s>', 'unload a run’s model after this long without its jobs', int('--idle-seconds', 1), WORKER_DEFAULTS.idleSeconds)
    .action(async (o: WorkerCommandOptions) => {
      await loadPlugins(); // --plugin modules: the only third-party code a worker runs
      const { runWorker } = await load(() => import('./worker.js'));
      await runWorker(o, io);
    });
}
