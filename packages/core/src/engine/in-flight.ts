import { throwIfAborted } from '../errors.js';

/**
 * Runs `work` on every item with at most `inFlight` running at once and yields the results in the items' order
 * (a sliding window: the next item starts as soon as the oldest result is taken, before it is handed over).
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
  const running: Array<Promise<R>> = [];
  let next = 0;
  const launch = () => {
    const started = work(items[next++]!, stop.signal);
    started.catch(() => undefined); // awaited in order below; a later item's failure must not go unhandled meanwhile
    running.push(started);
  };
  try {
    throwIfAborted(signal);
    while (running.length < inFlight && next < items.length) launch();
    while (running.length > 0) {
      const result = await running.shift()!;
      if (next < items.length) launch();
      yield result;
    }
  } finally {
    stop.abort();
    signal?.removeEventListener('abort', forward);
    await Promise.allSettled(running);
  }
}
