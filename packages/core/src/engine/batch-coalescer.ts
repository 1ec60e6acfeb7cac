import type { BaseClassifier } from '../classifier/base-classifier.js';
import { ModelError } from '../errors.js';
import { features, type Shape } from '../shape.js';

/** One caller's rows waiting for the base classifier. */
interface Request {
  input: Float32Array;
  count: number;
  shape: Shape;
  key: string;
  resolve: (predictions: Int32Array) => void;
  reject: (error: unknown) => void;
}

/** Counters of a coalescer (the bench reads them: rows per backend call is what a GPU's throughput follows). */
export interface CoalescerStats {
  /** Backend `classify` calls made. */
  calls: number;
  /** Rows classified over all calls. */
  rows: number;
  /** Callers' requests served (each `classify` call on the coalescer). */
  requests: number;
}

/**
 * Runs `f` after the current task and every microtask it queued (so every caller resumed by one batch has asked):
 * setImmediate in Node; in a browser a MessageChannel message (setTimeout(0) is clamped to 4 ms once nested).
 */
let afterMicrotasks = (f: () => void): void => {
  if (typeof setImmediate === 'function') afterMicrotasks = (g) => void setImmediate(g);
  else if (typeof MessageChannel === 'function') {
    const channel = new MessageChannel();
    const queue: Array<() => void> = [];
    // (typed loosely: core's types carry Node's MessagePort, whose `onmessage` the DOM's has; both runtimes honour it)
    (channel.port1 as unknown as { onmessage: (() => void) | null }).onmessage = () => queue.shift()?.();
    afterMicrotasks = (g) => {
      queue.push(g);
      channel.port2.postMessage(null);
    };
  } else afterMicrotasks = (g) => void setTimeout(g, 0);
  afterMicrotasks(f);
};

/**
 * Merges the `classify` requests of several calls in flight (images certified at once, `imagesInFlight`) into
 * full batches of the base classifier: a sequential certifier's early checks (16, 32, 64 … samples) from 8
 * images become one backend call of up to `maxRows` rows instead of 8 small ones. One backend call runs at a
 * time; requests that arrive meanwhile wait and go together in the next. A request is never split, and requests
 * of different encoded shapes never share a call.
 *
 * Each caller gets its own predictions, copied out of the backend's array (which the backend may reuse), so
 * which requests shared a call changes nothing a caller sees — as long as the backend's prediction for a row
 * does not depend on the other rows of its batch (true of a model in inference mode; measured for the
 * onnxruntime backends in test/images-in-flight.test.ts). A backend error, or an answer of the wrong length,
 * rejects every request of that call.
 * @category Plug-in authors
 */
export class BatchCoalescer {
  readonly stats: CoalescerStats = { calls: 0, rows: 0, requests: 0 };
  private pending: Request[] = [];
  private busy = false;
  private scheduled = false;
  private merged: { key: string; buffer: Float32Array } | undefined;

  /** `maxRows`: the most rows of one backend call (the engine's batchSize; a single request may not exceed it). */
  constructor(
    readonly classifier: BaseClassifier,
    readonly maxRows: number,
  ) {}

  /** Classifies rows [0, count) of `input` ([count, C′, H, W]) in the next backend call that has room for them. */
  classify(input: Float32Array, count: number, shape: Shape): Promise<Int32Array> {
    return new Promise((resolve, reject) => {
      this.pending.push({ input, count, shape, key: shape.join('x'), resolve, reject });
      this.stats.requests++;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.busy || this.scheduled || this.pending.length === 0) return;
    this.scheduled = true;
    afterMicrotasks(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** One backend call: the oldest request and every later one of its shape that still fits, in arrival order. */
  private async flush(): Promise<void> {
    if (this.busy || this.pending.length === 0) return;
    this.busy = true;
    const first = this.pending[0]!;
    const batch: Request[] = [];
    let rows = 0;
    this.pending = this.pending.filter((r) => {
      if (r.key !== first.key || (batch.length > 0 && rows + r.count > this.maxRows)) return true;
      batch.push(r);
      rows += r.count;
      return false;
    });
    try {
      const input = batch.length === 1 ? first.input : this.concat(batch, rows);
      this.stats.calls++;
      this.stats.rows += rows;
      const predictions = await this.classifier.classify(input, rows, first.shape);
      if (!predictions || !(predictions.length >= rows)) {
        throw new ModelError('classify', `returned ${predictions?.length ?? 'no'} predictions for a batch of ${rows} inputs`, 'the classifier must return one class per input row');
      }
      let offset = 0;
      for (const r of batch) {
        const own = new Int32Array(r.count);
        for (let i = 0; i < r.count; i++) own[i] = predictions[offset + i]!;
        offset += r.count;
        r.resolve(own);
      }
    } catch (error) {
      for (const r of batch) r.reject(error);
    } finally {
      this.busy = false;
      this.schedule();
    }
  }

  /** The requests' rows, one after another, in a buffer of maxRows rows kept per shape. */
  private concat(batch: Request[], rows: number): Float32Array {
    const shape = batch[0]!.shape;
    const f = features(shape);
    if (this.merged?.key !== batch[0]!.key) this.merged = { key: batch[0]!.key, buffer: new Float32Array(this.maxRows * f) };
    const buffer = this.merged.buffer;
    let offset = 0;
    for (const r of batch) {
      buffer.set(r.input.subarray(0, r.count * f), offset);
      offset += r.count * f;
    }
    return rows * f === buffer.length ? buffer : buffer.subarray(0, rows * f);
  }
}
