import { createHash } from 'node:crypto';
import { Ajv } from 'ajv';
import type { CertifyRow, PredictRow } from '../commands/run-dataset.js';

/**
 * A job of a distributed run: a contiguous range of dataset indices, the run's validated config and a reference
 * to its model. It is data only (JSON): a worker validates it with the schema below and the config with core's
 * `validateConfig` against the plug-ins it was started with; nothing in a job is executed or imported.
 */
export interface JobData {
  /** Payload format version. */
  v: 1;
  /** The run this job belongs to (16 hex digits; also the prefix of the job id). */
  runId: string;
  kind: 'certify' | 'predict';
  /** First index and number of images. */
  start: number;
  count: number;
  /** The run's effective config (model and dataset paths absolute). */
  config: Record<string, unknown>;
  /** sha-256 of the row-determining config + model fingerprint: results with another hash are discarded. */
  configHash: string;
  model: ModelRef;
}

/** Where a worker gets the model: its bytes in Redis (content-addressed), or a path valid on every worker. */
export interface ModelRef {
  transfer: 'redis' | 'shared';
  /** sha-256 of the model bytes (of the folder's files for a tfjs folder): the model's fingerprint. */
  sha256: string;
  /** Absolute path, for `shared`. */
  path?: string;
}

/** What a worker returns for a job: one row per index of the range, in order. */
export interface JobResult {
  rows: (CertifyRow | PredictRow)[];
  /** `host:pid` of the worker, for progress and logs. */
  worker: string;
}

import { MAX_JOB_IMAGES } from './coordinator-defaults.js';

export { MAX_JOB_IMAGES };
const HEX64 = '^[0-9a-f]{64}$';

const jobSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'runId', 'kind', 'start', 'count', 'config', 'configHash', 'model'],
  properties: {
    v: { const: 1 },
    runId: { type: 'string', pattern: '^[0-9a-f]{16}$' },
    kind: { enum: ['certify', 'predict'] },
    start: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    count: { type: 'integer', minimum: 1, maximum: MAX_JOB_IMAGES },
    config: { type: 'object' },
    configHash: { type: 'string', pattern: HEX64 },
    model: {
      type: 'object',
      additionalProperties: false,
      required: ['transfer', 'sha256'],
      properties: {
        transfer: { enum: ['redis', 'shared'] },
        sha256: { type: 'string', pattern: HEX64 },
        path: { type: 'string', minLength: 2, pattern: '^/' },
      },
      if: { properties: { transfer: { const: 'shared' } } },
      then: { required: ['path'] },
    },
  },
} as const;

const num = { type: 'number' } as const;
const classOrNull = { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] } as const;
const rowSchemas = {
  certify: {
    type: 'object',
    additionalProperties: false,
    required: ['index', 'label', 'prediction', 'radius', 'correct', 'pLower', 'nA', 'n', 'samples', 'seconds'],
    properties: {
      index: { type: 'integer' },
      label: { type: 'integer' },
      prediction: classOrNull,
      radius: { anyOf: [{ type: 'number', minimum: 0 }, { type: 'null' }] },
      correct: { type: 'boolean' },
      pLower: num,
      nA: { type: 'integer' },
      nB: { type: 'integer', minimum: 0 },
      n: { type: 'integer' },
      samples: { type: 'integer', minimum: 0 },
      deterministic: { const: true },
      predict: {
        type: 'object',
        additionalProperties: false,
        required: ['prediction', 'pValue', 'nA', 'nB', 'n'],
        properties: { prediction: classOrNull, pValue: num, nA: { type: 'integer' }, nB: { type: 'integer' }, n: { type: 'integer' } },
      },
      seconds: num,
    },
  },
  predict: {
    type: 'object',
    additionalProperties: false,
    required: ['index', 'label', 'prediction', 'correct', 'pValue', 'nA', 'nB', 'n', 'samples', 'seconds'],
    properties: { index: { type: 'integer' }, label: { type: 'integer' }, prediction: classOrNull, correct: { type: 'boolean' }, pValue: num, nA: { type: 'integer' }, nB: { type: 'integer' }, n: { type: 'integer' }, samples: { type: 'integer', minimum: 0 }, seconds: num },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateJobData = ajv.compile(jobSchema);
const validateRow = { certify: ajv.compile(rowSchemas.certify), predict: ajv.compile(rowSchemas.predict) };

/** Checks a queued payload; returns a message naming the wrong fields, or undefined when it is valid. */
export function jobDataError(data: unknown): string | undefined {
  if (validateJobData(data)) return undefined;
  return (validateJobData.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
}

/** Checks a worker's result against the job: one well-formed row per index, in order. */
export function jobResultError(data: JobData, result: unknown): string | undefined {
  const r = result as Partial<JobResult> | null;
  if (!r || typeof r !== 'object' || !Array.isArray(r.rows)) return 'the result has no rows array';
  if (r.rows.length !== data.count) return `expected ${data.count} rows, got ${r.rows.length}`;
  const check = validateRow[data.kind];
  for (let i = 0; i < r.rows.length; i++) {
    if (!check(r.rows[i])) return `row ${i}: ${(check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`;
    if (r.rows[i]!.index !== data.start + i) return `row ${i} has index ${r.rows[i]!.index}, expected ${data.start + i}`;
  }
  return undefined;
}

/** Job ids: `<runId>-<start>-<count>`, so enqueueing the same range twice is a no-op (BullMQ keeps one job per id). */
export function jobId(runId: string, start: number, count: number): string {
  return `${runId}-${start}-${count}`;
}

/** Splits sorted indices into contiguous ranges of at most `size` images. */
export function splitRanges(indices: readonly number[], size: number): { start: number; count: number }[] {
  const ranges: { start: number; count: number }[] = [];
  for (const i of indices) {
    const last = ranges[ranges.length - 1];
    if (last && last.start + last.count === i && last.count < size) last.count++;
    else ranges.push({ start: i, count: 1 });
  }
  return ranges;
}

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Options that change speed, never a row: batch sizes, images in flight, execution providers, thread counts, the model's path. */
const SPEED_ONLY = ['batchSize', 'executionProviders', 'intraOpNumThreads', 'interOpNumThreads', 'backends', 'strict', 'model'];

/** sha-256 over what determines a row: the command, the config without speed-only options, the model's fingerprint. */
export function configHash(kind: string, config: Record<string, any>, modelSha256: string): string {
  const { batchSize: _b, imagesInFlight: _i, ...rest } = config;
  const classifier = Object.fromEntries(Object.entries(config.classifier ?? {}).filter(([k]) => !SPEED_ONLY.includes(k)));
  return createHash('sha256').update(canonicalJson({ kind, config: { ...rest, classifier }, model: modelSha256 })).digest('hex');
}

/** A run id from the results file (and host), so a coordinator restarted with --resume finds its jobs again. */
export function defaultRunId(host: string, outPath: string): string {
  return createHash('sha256').update(`${host}\0${outPath}`).digest('hex').slice(0, 16);
}
