import type { BaseClassifier } from '../classifier/base-classifier.js';
import { ArgumentError, ModelError } from '../errors.js';
import { features, type Shape } from '../shape.js';

/** One caller's rows waiting for the base classifier. */
interface Request {
  input: Float32Array;
  count: number;
  shape: Shape;
  key: string;
  resolve: (predictions: Int32Array | number[]) => void;
  reject: (error: unknown) => void;
  /** Resolves the request's `sent` promise. */
  sent: () => void;
}

/** A request in a coalescer (BatchCoalescer.submit). @category Plug-in authors */
export interface CoalescedRequest {
  /** Resolves once the backend call holding the rows has been started (or the request failed): from then on the
   *  caller may prepare its next batch while the backend works. Never rejects. */
  sent: Promise<void>;
  /** The backend's predictions for the rows, as `classify` returns them. */
  result: Promise<Int32Array | number[]>;
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
 * Where ports can be unref'd (Node, Deno without setImmediate), the port holds the process open only while a
 * message is pending: a port with a listener would otherwise keep it alive for good.
 */
let afterMicrotasks = (f: () => void): void => {
  if (typeof setImmediate === 'function') afterMicrotasks = (g) => void setImmediate(g);
  else if (typeof MessageChannel === 'function') {
    const channel = new MessageChannel();
    const port = channel.port1 as unknown as { onmessage: (() => void) | null; ref?: () => void; unref?: () => void };
    const queue: Array<() => void> = [];
    port.onmessage = () => {
      const g = queue.shift();
      if (queue.length === 0) port.unref?.();
      g?.();
    };
    port.unref?.();
    afterMicrotasks = (g) => {
      queue.push(g);
      port.ref?.();
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
 * Each caller gets its own predictions, copied out of the backend's array (which the backend may reuse) value for
 * value — never coerced, so a NaN, fractional or out-of-range class reaches the caller's check as it came — so
 * which requests shared a call changes nothing a caller sees — as long as the backend's prediction for a row
 * does not depend on the other rows of its batch (true of a model in inference mode; measured for the
 * onnxruntime backends in packages/core/test/images-in-flight.test.ts). A backend error, or an answer of the wrong length,
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

  /**
   * Classifies rows [0, count) of `input` ([count, C′, H, W]) in the next backend call that has room for them:
   * the backend's predictions for those rows, copied as they came (the caller checks them). An ArgumentError
   * for a count that is not an integer in [0, maxRows] or an input shorter than count rows (a merged call would
   * otherwise classify whatever an earlier call left in the shared buffer).
   */
  classify(input: Float32Array, count: number, shape: Shape): Promise<Int32Array | number[]> {
    return this.submit(input, count, shape).result;
  }

  /**
   * `classify`, and when the backend call holding the rows starts (`sent`). The engine samples and encodes its next
   * batch after `sent`, so that it overlaps the backend call as with one image at a time (before the call, it would
   * hold up every merged call by the sampling of all the images in flight).
   */
  submit(input: Float32Array, count: number, shape: Shape): CoalescedRequest {
    let sent!: () => void;
    const sentPromise = new Promise<void>((resolve) => (sent = resolve));
    const result = new Promise<Int32Array | number[]>((resolve, reject) => {
      try {
        this.enqueue(input, count, shape, resolve, reject, sent);
      } catch (error) {
        sent();
        throw error;
      }
    });
    return { sent: sentPromise, result };
  }

  private enqueue(input: Float32Array, count: number, shape: Shape, resolve: Request['resolve'], reject: Request['reject'], sent: () => void): void {
    if (!(Number.isInteger(count) && count >= 0 && count <= this.maxRows)) throw new ArgumentError('count', `is ${count}, not an integer in [0, ${this.maxRows}] (maxRows)`);
    const needed = count * features(shape);
    if (!(input instanceof Float32Array) || input.length < needed) {
      throw new ArgumentError('input', `holds ${input instanceof Float32Array ? input.length : 'no Float32Array of'} values, fewer than the ${needed} of ${count} rows of [${shape.join(', ')}]`);
    }
    if (count === 0) {
      sent();
      return resolve(new Int32Array(0));
    }
    this.pending.push({ input, count, shape, key: shape.join('x'), resolve, reject, sent });
    this.stats.requests++;
    this.schedule();
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
      const call = this.classifier.classify(input, rows, first.shape);
      for (const r of batch) r.sent();
      const predictions = await call;
      if (!predictions || !(predictions.length >= rows)) {
        throw new ModelError('classify', `returned ${predictions?.length ?? 'no'} predictions for a batch of ${rows} inputs`, 'the classifier must return one class per input row');
      }
      let offset = 0;
      for (const r of batch) {
        // a copy, value for value: an Int32Array copy would turn NaN into class 0 and 1.5 into class 1
        const own = predictions instanceof Int32Array ? predictions.slice(offset, offset + r.count) : (Array.prototype.slice.call(predictions, offset, offset + r.count) as number[]);
        offset += r.count;
        r.resolve(own);
      }
    } catch (error) {
      for (const r of batch) {
        r.sent();
        r.reject(error);
      }
    } finally {
      this.busy = false;
      this.schedule();
    }
  }

  /**
   * The requests' rows, one after another, in a buffer kept per shape and grown to the most rows merged so far
   * (never maxRows up front: with a batchSize far above the samples an image needs, that would be a buffer of
   * batchSize rows for calls of a few hundred).
   */
  private concat(batch: Request[], rows: number): Float32Array {
    const shape = batch[0]!.shape;
    const f = features(shape);
    if (this.merged?.key !== batch[0]!.key || this.merged.buffer.length < rows * f) this.merged = { key: batch[0]!.key, buffer: new Float32Array(rows * f) };
    const buffer = this.merged.buffer;
    let offset = 0;
    for (const r of batch) {
      buffer.set(r.input.subarray(0, r.count * f), offset);
      offset += r.count * f;
    }
    return rows * f === buffer.length ? buffer : buffer.subarray(0, rows * f);
  }
}
