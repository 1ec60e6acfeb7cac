import { hostname } from 'node:os';
import { ConfigError, registry, SLOTS, validateConfig, type AblateConfig } from '@ablate/core';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { computeRows } from '../commands/run-dataset.js';
import { configHash, jobDataError, type JobData, type JobResult } from './jobs.js';
import { datasetUnderRoots, defaultModelCache, fetchModel, prepareModelCache, readModelUnderRoots, resolveModelRoots } from './model-store.js';
import { UsageError } from '../errors.js';
import { checkDatabase, isAuthError, parseRedisUrl, redactRedisUrl } from './redis-url.js';
import { RuntimeCache } from './runtime-cache.js';
import type { WorkerCommandOptions } from './worker-defaults.js';


/**
 * `ablate worker`: serves jobs of any run on the queue until SIGINT/SIGTERM (then finishes the jobs in hand).
 * Each job is validated as data (schema, then the config with core's validateConfig against the plug-ins this
 * process has registered: a config naming any other plug-in is refused, nothing is imported from a job), its
 * config hash is recomputed from the config it carries (a job claiming another is refused), its model comes from
 * Redis by content (cached privately, verified) or from a path under the worker's `--model-root` folders and is
 * checked against the job's sha-256 fingerprint, and the job's images are computed by `computeRows` (the config's
 * imagesInFlight of them at once).
 */
export async function runWorker(o: WorkerCommandOptions, io: { stderr: NodeJS.WritableStream }): Promise<void> {
  const connection = parseRedisUrl(o.queue);
  // Operator-given places, checked before connecting: a wrong --model-cache / --model-root ends the worker at once.
  const cacheDir = prepareModelCache(o.modelCache ?? defaultModelCache());
  const roots = resolveModelRoots(o.modelRoot ?? []);
  const where = redactRedisUrl(o.queue);
  const me = `${hostname()}:${process.pid}`;
  // (job ids and reasons come from Redis: control characters are not passed to the terminal)
  const log = (m: string) => io.stderr.write(`[worker ${me}] ${m.replace(/[\n\t]/g, ' ').replace(/\p{Cc}/gu, '?')}\n`);
  const redis = new Redis({ ...connection });
  // Wait for Redis (it may start after the workers); wrong credentials end the worker at once.
  await new Promise<void>((resolve, reject) => {
    let said = false;
    redis.once('ready', () => resolve());
    redis.on('error', (error) => {
      if (isAuthError(error)) {
        redis.disconnect();
        reject(new UsageError('--queue', `Redis at ${where} refused the credentials (${error.message})`, 'check the user and password in the URL'));
      } else if (!said) {
        said = true;
        log(`waiting for Redis at ${where}: ${error.message}`);
      }
    });
  });
  try {
    await checkDatabase(redis, connection.db, where);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const cache = new RuntimeCache(o.idleSeconds * 1000, (m) => log(`warning: ${m}`));

  const validated = new Map<string, AblateConfig>();
  const processJob = async (job: Job): Promise<JobResult> => {
    const problem = jobDataError(job.data);
    if (problem) throw new UnrecoverableError(`invalid job payload: ${problem}`);
    const data = job.data as JobData;
    // The hash that keys this worker's runtimes is the one of what the job carries, never the one it claims.
    const hash = configHash(data.kind, data.config, data.model.sha256);
    if (hash !== data.configHash) throw new UnrecoverableError(`config hash mismatch: the job claims ${data.configHash.slice(0, 12)}… but its config and model hash to ${hash.slice(0, 12)}…; refusing the job`);
    // Validated once per distinct config (compiling the schema costs more than a small job).
    const text = JSON.stringify(data.config);
    let config = validated.get(text);
    if (!config) {
      // ablate's own backends and datasets load on first use of their type (a fixed map of first-party
      // packages); a third-party type must have been registered by the worker's own --plugin modules.
      const { ensureType } = await import('../plugins.js');
      for (const kind of SLOTS) {
        const type = (data.config as Record<string, { type?: unknown } | undefined>)[kind]?.type;
        if (typeof type === 'string') await ensureType(kind, type, [process.cwd()], `/${kind}/type`);
      }
      try {
        config = validateConfig<AblateConfig>(data.config, registry);
      } catch (error) {
        if (error instanceof ConfigError) throw new UnrecoverableError(`invalid config in job: ${error.message}`);
        throw error;
      }
      if (validated.size >= 16) validated.clear();
      validated.set(text, config);
    }
    // A dataset read from a folder (CIFAR-10, an image folder, IDX files elsewhere) only under the roots too: its rows
    // would otherwise reveal images anywhere on this machine.
    const datasetPath = (config.dataset as { path?: unknown } | undefined)?.path;
    const dataset = typeof datasetPath === 'string' ? { ...config.dataset!, path: datasetUnderRoots(datasetPath, roots) } : config.dataset;
    let modelPath: string;
    if (data.model.transfer === 'redis') modelPath = await fetchModel(redis, data.model.sha256, cacheDir, o.maxModelBytes);
    else {
      const local = readModelUnderRoots(data.model.path!, roots, o.maxModelBytes);
      // (the file's own fingerprint is not echoed: a job must not learn the hash of a file it named)
      if (local.sha256 !== data.model.sha256) throw new Error(`model fingerprint mismatch on ${me}: the file at the job's path is not the model ${data.model.sha256.slice(0, 12)}…; refusing the job`);
      modelPath = local.path;
    }
    const classifier: Record<string, unknown> = { ...config.classifier, model: modelPath };
    if (o.threads !== undefined && classifier.type === 'onnx') classifier.intraOpNumThreads = o.threads;
    const key = `${data.runId}|${hash}|${modelPath}|${o.threads ?? ''}`;
    const rt = await cache.acquire(key, { ...config, dataset, classifier: classifier as unknown as AblateConfig['classifier'] } as AblateConfig, process.cwd());
    try {
      const size = rt.dataset?.size ?? 0;
      if (data.start + data.count > size) throw new UnrecoverableError(`images ${data.start}–${data.start + data.count - 1} are past the end of the dataset (${size} images)`);
      log(`job ${job.id}: images ${data.start}–${data.start + data.count - 1} started (start ${job.attemptsStarted}, failed attempts ${job.attemptsMade})`);
      const t0 = performance.now();
      const rows: JobResult['rows'] = [];
      // (the config's imagesInFlight images of the job at once, their batches merged; rows in index order)
      for await (const row of computeRows(rt, data.kind, data.start, data.count)) rows.push(row);
      log(`job ${job.id}: images ${data.start}–${data.start + data.count - 1} in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      return { rows, worker: me };
    } finally {
      cache.release(key, rt);
    }
  };

  const worker = new Worker(o.queueName, processJob, {
    connection,
    concurrency: o.concurrency,
    lockDuration: o.lockDuration,
    stalledInterval: o.stalledInterval,
    maxStalledCount: o.maxStalled,
  });
  let lastError = '';
  worker.on('error', (error) => {
    if (error.message !== lastError) log(`Redis: ${error.message} (retrying)`);
    lastError = error.message;
  });
  worker.on('failed', (job, error) => log(`job ${job?.id} failed: ${error.message}`));
  worker.on('stalled', (id) => log(`job ${id} stalled (its worker stopped renewing the lock): back on the queue`));
  await worker.waitUntilReady();
  log(`ready: queue "${o.queueName}" on ${where}, concurrency ${o.concurrency}${o.threads !== undefined ? `, ${o.threads} ONNX thread(s) per job` : ''}`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: finishing the jobs in hand, then exiting (again to exit now)`);
      process.once(signal as NodeJS.Signals, () => process.exit(130));
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await worker.close();
  await cache.close();
  redis.disconnect();
}
