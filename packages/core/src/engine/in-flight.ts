import { throwIfAborted } from '../errors.js';

/** Finished results that may wait, per item in flight, for an earlier item still running (inFlightInOrder). */
const AHEAD = 4;

/**
 * Runs `work` on every item with at most `inFlight` running at once and yields the results in the items' order.
 * An item that finishes starts the next one at once, even while an earlier (slower) item holds up the results
 * (up to 4 · inFlight finished results wait), so one slow item does not leave the other slots idle; the window
 * moves again when a result is taken, before it is handed over. After a failure no item starts; the results before
 * it are still yielded, then its error is thrown.
 * Each `work` gets a signal that aborts when `signal` does, when the consumer stops iterating early, or when a
 * result to be yielded failed; the generator then waits for every started `work` to settle before it returns or
 * throws, so nothing runs on behind the caller's back. The dataset runs (imagesInFlight) and `ablate attack` use it.
 * @category App authors
 */
export async function* inFlightInOrder<T, R>(items: readonly T[], inFlight: number, work: (item: T, signal: AbortSignal) => Promise<R>, signal?: AbortSignal): AsyncGenerator<R, void, undefined> {
  const stop = new AbortController();
  const forward = () => stop.abort(signal?.reason);
  if (signal?.aborted) forward();
  signal?.addEventListener('abort', forward, { once: true });
  // started and not yet yielded, in item order; `computing` of them still run
  const running: Array<Promise<R>> = [];
  let computing = 0;
  let failed = false;
  let next = 0;
  const fill = () => {
    while (!failed && !stop.signal.aborted && computing < inFlight && running.length < (1 + AHEAD) * inFlight && next < items.length) launch();
  };
  const launch = () => {
    computing++;
    let started: Promise<R>;
    try {
      started = Promise.resolve(work(items[next++]!, stop.signal));
    } catch (error) {
      started = Promise.reject(error);
    }
    // (these handlers also keep a later item's failure from going unhandled before it is awaited in order below)
    started.then(
      () => {
        computing--;
        fill();
      },
      () => {
        computing--;
        failed = true;
      },
    );
    running.push(started);
  };
  try {
    throwIfAborted(signal);
    fill();
    while (running.length > 0) {
      const result = await running.shift()!;
      fill();
      yield result;
    }
  } finally {
    stop.abort();
    signal?.removeEventListener('abort', forward);
    await Promise.allSettled(running);
  }
}
