import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { AblateError, createContainer, type AblateRuntime } from '@ablate/core';
import { Queue, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { certifyRowKeys, computeRow, inLayout, olderCertifyRowKeys, predictSettings, PREDICT_ROW_KEYS, type CertifyRow, type DatasetRunOptions, type PredictRow, type PredictSettings } from '../commands/run-dataset.js';
import { effectiveConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { ResultsFile, SIDECAR_FORMAT, SIDECAR_VERSION, modelFingerprint as sidecarFingerprint, type RunMeta } from '../results/index.js';
import { createProgress } from '../progress.js';
import { configHash, defaultRunId, jobId, jobResultError, splitRanges, type JobData, type JobResult, type ModelRef } from './jobs.js';
import { MODEL_TTL_SECONDS, modelFingerprint, modelKey, putModel, readModelBytes } from './model-store.js';
import { checkDatabase, isAuthError, parseRedisUrl, redactRedisUrl } from './redis-url.js';
import type { DistributedOptions } from './coordinator-defaults.js';
import { rowProblem } from './verify-rows.js';


/**
 * A distributed run failed (exit 1): a job that failed every attempt, rows rejected every attempt or contradicted by
 * the audit, Redis gone. `field` names the row field or flag concerned.
 */
export class DistributedRunError extends AblateError {
  constructor(message: string, field?: string, hint?: string) {
    super('ABLATE_DISTRIBUTED', message, { field, hint });
  }
}

/** Text a worker sent (a failure reason) as this terminal may print it: control characters replaced, at most 1 000 characters. */
const printable = (text: unknown) => {
  const s = String(text ?? '').replace(/\p{Cc}/gu, '?');
  return s.length > 1000 ? `${s.slice(0, 1000)}…` : s;
};

/** Whether `--audit` re-certifies the row of `index`: a seeded, uniform choice of about `fraction` of the indices. */
export function audited(seed: number, index: number, fraction: number): boolean {
  if (fraction <= 0) return false;
  if (fraction >= 1) return true;
  const h = createHash('sha256').update(`audit\0${seed}\0${index}`).digest();
  return h.readUIntBE(0, 6) / 2 ** 48 < fraction;
}

const ALL_STATES = ['completed', 'failed', 'active', 'wait', 'delayed', 'prioritized', 'waiting-children'] as const;

/**
 * The coordinator of a distributed CERTIFY / PREDICT: splits the images not yet in `--out` into jobs of
 * `--job-size` contiguous indices, enqueues them on BullMQ, and writes the workers' rows into `--out` (the usual
 * rows and sidecar, in the order jobs finish) until every image is there. Exactly once: rows are deduplicated by
 * index against the file; a finished job's rows stay in Redis (the completed job) until they are written and
 * fsync'ed here, then the job is removed, so a coordinator killed at any moment loses nothing on `--resume`.
 */
export async function runDistributed(kind: 'certify' | 'predict', options: DatasetRunOptions & DistributedOptions, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream }): Promise<void> {
  if (!options.out) throw new UsageError('--queue', 'a distributed run needs --out FILE.jsonl (rows are collected there, and --resume continues it)');
  const connection = parseRedisUrl(options.queue);
  const where = redactRedisUrl(options.queue);
  const log = (m: string) => io.stderr.write(`${m}\n`);

  // The run, prepared as a local run would be: the results file checked and locked first, then the config
  // validated, model and dataset checked against each other.
  const { config, baseDir } = effectiveConfig(options.config, options);
  const writer = ResultsFile.open(options.out, { resume: options.resume ?? false });
  try {
    await coordinate(kind, { ...options, out: options.out }, io, config, baseDir, writer, connection, where, log);
  } finally {
    writer.close();
  }
}

async function coordinate(
  kind: 'certify' | 'predict',
  options: DatasetRunOptions & DistributedOptions & { out: string },
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream },
  config: ReturnType<typeof effectiveConfig>['config'],
  baseDir: string,
  writer: ResultsFile,
  connection: ReturnType<typeof parseRedisUrl>,
  where: string,
  log: (m: string) => void,
): Promise<void> {
  const rt: AblateRuntime = await createContainer(config, { baseDir, warn: (m) => log(`warning: ${m}`) });
  let jobConfig: Record<string, any>;
  let meta: RunMeta;
  let start: number;
  let count: number;
  let samplesPerImage: number;
  let olderRowKeys: ReadonlyArray<readonly string[]>;
  let predict: PredictSettings | undefined;
  try {
    const dataset = rt.dataset;
    if (!dataset) throw new UsageError('--dataset', 'the config names no dataset', 'add "dataset": {"type": "mnist"} or pass --dataset mnist');
    start = options.start ?? 0;
    if (start >= dataset.size) throw new UsageError('--start', `${start} is past the end of ${dataset.name} (${dataset.size} images)`);
    count = Math.min(options.count ?? dataset.size - start, dataset.size - start);
    // The same sidecar a local run writes (commands/run-dataset.ts), so either can --resume the other.
    predict = predictSettings(rt, kind);
    const layout = { predict: predict !== undefined, deterministic: rt.certifier.deterministic === true };
    olderRowKeys = kind === 'certify' ? olderCertifyRowKeys(layout) : [];
    meta = {
      format: SIDECAR_FORMAT,
      version: SIDECAR_VERSION,
      command: kind,
      perturbation: rt.perturbation.describe(),
      unit: rt.perturbation.bound(dataset.shape).unit,
      config: predict === undefined ? rt.config : { ...rt.config, predict },
      model: sidecarFingerprint(rt.config.classifier.model, baseDir) ?? null,
      rowKeys: kind === 'certify' ? certifyRowKeys(layout) : PREDICT_ROW_KEYS,
      datasetSize: dataset.size,
      started: new Date().toISOString(),
    };
    samplesPerImage = kind === 'certify' ? rt.certifier.n0 + rt.certifier.n + (predict?.n ?? 0) : predict!.n;
    // Paths made absolute, so they mean the same on every worker (shared storage) whatever its working directory.
    jobConfig = structuredClone(rt.config) as Record<string, any>;
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
    if (typeof jobConfig.classifier.model === 'string') jobConfig.classifier.model = abs(jobConfig.classifier.model);
    if (typeof jobConfig.dataset?.path === 'string') jobConfig.dataset.path = abs(jobConfig.dataset.path);
  } catch (error) {
    await rt.dispose();
    throw error;
  }
  // The runtime stays loaded: every returned row is checked against it (labels, recomputed certificates), and
  // --audit re-certifies rows with it.
  try {
    await coordinateJobs(kind, options, io, writer, connection, where, log, { rt, jobConfig, meta, start, count, samplesPerImage, olderRowKeys, predict, baseDir });
  } finally {
    await rt.dispose();
  }
}

async function coordinateJobs(
  kind: 'certify' | 'predict',
  options: DatasetRunOptions & DistributedOptions & { out: string },
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream },
  writer: ResultsFile,
  connection: ReturnType<typeof parseRedisUrl>,
  where: string,
  log: (m: string) => void,
  run: { rt: AblateRuntime; jobConfig: Record<string, any>; meta: RunMeta; start: number; count: number; samplesPerImage: number; olderRowKeys: ReadonlyArray<readonly string[]>; predict: PredictSettings | undefined; baseDir: string },
): Promise<void> {
  const { rt, jobConfig, meta, start, count, samplesPerImage, olderRowKeys, predict } = run;
  const modelPath: unknown = jobConfig.classifier.model;
  if (typeof modelPath !== 'string') throw new UsageError('--model', 'a distributed run needs a classifier with a model file or folder (classifier.model)');
  const fingerprint = modelFingerprint(modelPath);
  const model: ModelRef = { transfer: options.modelTransfer, sha256: fingerprint };
  let modelBytes: Buffer | undefined;
  if (options.modelTransfer === 'shared') model.path = modelPath;
  else {
    if (statSync(modelPath).isDirectory()) throw new UsageError('--model-transfer', `${modelPath} is a folder; only a single model file can be stored in Redis`, 'put the model on storage every worker mounts, start the workers with --model-root FOLDER and pass --model-transfer shared');
    modelBytes = readModelBytes(modelPath, options.maxModelBytes, fingerprint);
  }
  const hash = configHash(kind, jobConfig, fingerprint);
  const out = resolve(options.out);
  const runId = options.runId ? createHash('sha256').update(`run-id\0${options.runId}`).digest('hex').slice(0, 16) : defaultRunId(hostname(), out);

  const done = new Set(writer.prepare(meta, { olderRowKeys }));
  const wanted = (i: number) => i >= start && i < start + count;
  const doneInRange = () => [...done].filter(wanted).length;

  const redis = new Redis({ ...connection });
  let downSince: number | undefined = Date.now(); // until the first 'ready'
  let connected = false;
  let authError: Error | undefined;
  redis.on('error', (error) => {
    if (isAuthError(error)) authError = error;
  });
  redis.on('close', () => (downSince ??= Date.now()));
  redis.on('ready', () => {
    if (connected && downSince !== undefined) log(`Redis at ${where} is back after ${((Date.now() - downSince) / 1000).toFixed(1)} s`);
    connected = true;
    downSince = undefined;
  });
  // Created once the URL's database is known to exist (checkDatabase below): BullMQ's own connection stays on
  // database 0 when SELECT fails, and a Queue made earlier could write its meta key there before the check ends the run.
  let queue!: Queue;
  /** Fails the run with a clear message when Redis has been unreachable for longer than --redis-timeout. */
  const withRedis = async <T>(what: string, op: () => Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setInterval(() => {
        if (authError) reject(new UsageError('--queue', `Redis at ${where} refused the credentials (${authError.message})`, 'check the user and password in the URL'));
        else if (downSince !== undefined && Date.now() - downSince > options.redisTimeout * 1000) {
          reject(new DistributedRunError(`Redis at ${where} unreachable for ${options.redisTimeout} s (while ${what}); ${doneInRange()} of ${count} images are in ${options.out}: run the same command with --resume to continue`));
        }
      }, 200);
    });
    try {
      return await Promise.race([op(), limit]);
    } finally {
      clearInterval(timer);
    }
  };

  const jobOptions = (s: number, c: number): JobsOptions => ({ jobId: jobId(runId, s, c), attempts: options.attempts, backoff: { type: 'exponential', delay: options.backoff }, removeOnComplete: false, removeOnFail: false });
  const jobData = (s: number, c: number): JobData => ({ v: 1, runId, kind, start: s, count: c, config: jobConfig, configHash: hash, model });
  /** Jobs of this run in Redis (by id) with their range, not yet written. */
  const outstanding = new Map<string, { start: number; count: number }>();
  const enqueue = async (ranges: { start: number; count: number }[]) => {
    for (let i = 0; i < ranges.length; i += 500) {
      const chunk = ranges.slice(i, i + 500);
      await withRedis('enqueueing jobs', () => queue.addBulk(chunk.map((r) => ({ name: kind, data: jobData(r.start, r.count), opts: jobOptions(r.start, r.count) }))));
      for (const r of chunk) outstanding.set(jobId(runId, r.start, r.count), r);
    }
  };

  const progress = createProgress(count, doneInRange(), io.stderr);
  /**
   * Removes a job left by an earlier run of this results path with another config (same id, so our enqueue was a
   * no-op): its rows are not ours. The range is enqueued again when this run was counting on it.
   */
  const replaceStale = async (job: Job) => {
    await withRedis('removing a stale job', () => job.remove());
    const range = outstanding.get(job.id!);
    outstanding.delete(job.id!);
    if (range) await enqueue(splitRanges(Array.from({ length: range.count }, (_, i) => range.start + i).filter((i) => !done.has(i)), options.jobSize));
  };
  /** Times each range's result was rejected (by job id); bounded by --attempts. */
  const rejections = new Map<string, number>();
  const auditSeed = options.auditSeed ?? Math.floor(Math.random() * 2 ** 31);
  if (options.audit > 0) log(`audit: re-certifying about ${(options.audit * 100).toPrecision(3)} % of the rows here (--audit-seed ${auditSeed})`);
  /**
   * Rejects a finished job's result (nothing of it is written): the job is removed and its range enqueued again,
   * up to --attempts times; then the run fails naming the job, the image and the field.
   */
  const reject = async (job: Job, worker: string, field: string, reason: string) => {
    const data = job.data as JobData;
    const times = (rejections.get(job.id!) ?? 0) + 1;
    rejections.set(job.id!, times);
    log(`warning: rejected the rows of job ${job.id} from ${worker}: ${reason}`);
    await withRedis('removing a rejected job', () => job.remove());
    outstanding.delete(job.id!);
    if (times >= options.attempts) {
      throw new DistributedRunError(
        `job ${job.id} (images ${data.start}–${data.start + data.count - 1}): its rows were rejected ${times} time(s), last from ${worker}: ${reason}; nothing of it was written, ${doneInRange()} of ${count} images are in ${options.out} (check the workers: a worker of another ablate version, or a worker or Redis user that is not yours)`,
        field,
      );
    }
    await enqueue(splitRanges(Array.from({ length: data.count }, (_, i) => data.start + i).filter((i) => !done.has(i)), options.jobSize));
  };
  /** Writes a finished job's new rows (fsync'ed) once every row passed the checks (and the audit), then removes the job from Redis. */
  const collect = async (job: Job) => {
    const data = job.data as JobData;
    if (data.configHash !== hash) return replaceStale(job);
    // (a name the worker chose: quoted, at most 200 characters, no control characters, as every use below prints it)
    const worker = typeof job.returnvalue?.worker === 'string' ? printable(JSON.stringify(job.returnvalue.worker.slice(0, 200))) : 'an unnamed worker';
    // The job itself came back through Redis: it must still be the range and kind this run enqueued under its id.
    if (data.kind !== kind || job.id !== jobId(runId, data.start, data.count) || data.start + data.count > rt.dataset!.size) {
      return reject(job, worker, '/job', `the job's data (${data.kind}, images ${data.start}–${data.start + data.count - 1}) is not what this run enqueued as ${job.id}`);
    }
    const problem = jobResultError(data, job.returnvalue);
    if (problem) return reject(job, worker, '/rows', `malformed rows (${problem}); is every worker the same ablate version?`);
    const result = job.returnvalue as JobResult;
    for (const row of result.rows) {
      let bad: Awaited<ReturnType<typeof rowProblem>>;
      try {
        bad = await rowProblem({ kind, rt, predict }, row);
      } catch (error) {
        bad = { field: '/', message: `cannot be checked (${printable((error as Error).message)})` };
      }
      if (bad) return reject(job, worker, bad.field, `image ${row.index}: ${bad.field.slice(1)} ${bad.message}`);
    }
    for (const row of result.rows) {
      if (done.has(row.index) || !wanted(row.index) || !audited(auditSeed, row.index, options.audit)) continue;
      const here = await computeRow(rt, kind, row.index, predict);
      const differs = Object.keys({ ...here, ...row }).filter((k) => k !== 'seconds' && JSON.stringify((row as any)[k]) !== JSON.stringify((here as any)[k]));
      if (differs.length > 0) {
        const pick = (r: object) => JSON.stringify(Object.fromEntries(differs.map((k) => [k, (r as any)[k]])));
        throw new DistributedRunError(
          `audit: the row of image ${row.index} from ${worker} (job ${job.id}) differs from its local re-certification in ${differs.join(', ')}: worker ${pick(row)}, here ${pick(here)}; a worker computes wrong rows or lies (its job's rows were not written)`,
          `/${differs[0]}`,
          'find and stop that worker (see docs/distributed.md, Security), then rerun with --resume',
        );
      }
    }
    for (const row of result.rows as (CertifyRow | PredictRow)[]) {
      if (done.has(row.index) || !wanted(row.index)) continue;
      writer.append(inLayout(row, writer.rowKeys));
      done.add(row.index);
      const outcome = row.prediction === null ? 'abstain' : `→ ${row.prediction}${'radius' in row ? `, radius ${row.radius}` : ''}`;
      progress.tick({ index: row.index, samples: samplesPerImage, line: `image ${row.index}: label ${row.label} ${outcome} (${row.seconds.toFixed(2)} s on ${worker})` });
    }
    await withRedis('removing a collected job', () => job.remove());
    outstanding.delete(job.id!);
  };
  const ourJobs = async (states: readonly (typeof ALL_STATES)[number][]) =>
    (await withRedis('listing jobs', () => queue.getRanges([...states], 0, -1))).filter((id) => id.startsWith(`${runId}-`));

  try {
    await withRedis('connecting', () => checkDatabase(redis, connection.db, where));
    queue = new Queue(options.queueName, { connection });
    queue.on('error', () => {});
    await withRedis('connecting', () => queue.waitUntilReady());
    if (modelBytes) await withRedis('storing the model', () => putModel(redis, modelBytes!, fingerprint));

    // Jobs this run left in Redis: collect the finished ones, keep the others in flight; a fresh run drops them.
    for (const id of await ourJobs(ALL_STATES)) {
      const job = await withRedis('reading jobs', () => queue.getJob(id));
      if (!job) continue;
      const state = await withRedis('reading jobs', () => job.getState());
      const data = job.data as JobData;
      if (!options.resume || data.configHash !== hash) {
        if (state !== 'active') await withRedis('removing stale jobs', () => job.remove()).catch(() => {});
        continue;
      }
      if (state === 'completed') await collect(job);
      else {
        if (state === 'failed') await withRedis('retrying a failed job', () => job.retry('failed'));
        outstanding.set(id, { start: data.start, count: data.count });
      }
    }
    const inFlight = new Set([...outstanding.values()].flatMap((r) => Array.from({ length: r.count }, (_, i) => r.start + i)));
    const todo = Array.from({ length: count }, (_, i) => start + i).filter((i) => !done.has(i) && !inFlight.has(i));
    await enqueue(splitRanges(todo, options.jobSize));
    log(`run ${runId}: ${doneInRange()} of ${count} images done, ${outstanding.size} jobs on queue "${options.queueName}" at ${where}`);

    let lastCheck = 0;
    while (doneInRange() < count) {
      // Finished jobs of this run (BullMQ keeps them, with their rows, until collected).
      for (const id of await ourJobs(['completed'])) {
        const job = await withRedis('reading a finished job', () => queue.getJob(id));
        if (job) await collect(job);
      }
      for (const id of await ourJobs(['failed'])) {
        const job = await withRedis('reading a failed job', () => queue.getJob(id));
        if (!job) continue;
        const d = job.data as JobData;
        if (d.configHash !== hash) {
          await replaceStale(job);
          continue;
        }
        throw new DistributedRunError(
          `job ${id} (images ${d.start}–${d.start + d.count - 1}) failed after ${job.attemptsMade} attempt(s): ${printable(job.failedReason)}; ${doneInRange()} of ${count} images are in ${options.out} (the other jobs go on: fix the cause, then rerun with --resume)`,
        );
      }
      // Every few seconds: jobs (and the model) that vanished from Redis, e.g. a restart without persistence, are
      // stored again; the model's TTL is refreshed.
      if (Date.now() - lastCheck > 2000) {
        lastCheck = Date.now();
        const ids = [...outstanding.keys()];
        const exists = await withRedis('checking jobs', async () => {
          const p = redis.pipeline();
          for (const id of ids) p.exists(queue.toKey(id));
          if (modelBytes) p.expire(modelKey(fingerprint), MODEL_TTL_SECONDS);
          return ((await p.exec()) ?? []).map(([, v]) => v);
        });
        if (modelBytes && exists[ids.length] === 0) {
          log(`the model vanished from Redis (was it restarted without persistence?): storing it again`);
          await withRedis('storing the model', () => putModel(redis, modelBytes!, fingerprint));
        }
        const lost = ids.filter((id, i) => exists[i] === 0).map((id) => outstanding.get(id)!);
        if (lost.length) {
          log(`${lost.length} job(s) vanished from Redis (was it restarted without persistence?): enqueueing them again`);
          for (const id of ids.filter((_, i) => exists[i] === 0)) outstanding.delete(id);
          await enqueue(lost.flatMap((r) => splitRanges(Array.from({ length: r.count }, (_, i) => r.start + i).filter((i) => !done.has(i)), options.jobSize)));
        }
      }
      if (doneInRange() < count) await new Promise((r) => setTimeout(r, options.pollMs));
    }
    // Nothing of this run may linger: duplicates of re-split ranges still queued are dropped.
    for (const id of await ourJobs(['wait', 'delayed', 'prioritized', 'completed', 'failed'])) await queue.remove(id).catch(() => {});
  } finally {
    progress.stop();
    writer.close();
    await queue?.close().catch(() => {});
    redis.disconnect();
  }
  if (doneInRange() !== count) throw new DistributedRunError(`internal error: ${doneInRange()} of ${count} images written`);
}
