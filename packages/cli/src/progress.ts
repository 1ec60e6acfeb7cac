import { createBar } from './progress-bar.js';

/** Progress of a long run: a bar with images, samples/s and ETA on a TTY; one quiet line per image otherwise. */
export interface Progress {
  tick(info: { index: number; samples: number; line: string }): void;
  stop(): void;
}

/** The ETA is cli-progress's own (over the last images); samples/s is measured since the start. */
export function createProgress(total: number, alreadyDone: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = performance.now();
  let samples = 0;
  let done = 0;
  const rate = () => samples / Math.max(1e-9, (performance.now() - started) / 1000);
  const bar = createBar(stream, {
    total,
    start: alreadyDone,
    tty: 'certify |{bar}| {value}/{total} images | {rate} samples/s | ETA {eta_formatted}',
    line: '[{value}/{total}] {line} | {rate} samples/s | ETA {eta_formatted}',
    payload: { rate: '-', line: '' },
  });
  return {
    tick({ samples: s, line }) {
      samples += s;
      done++;
      bar.update(alreadyDone + done, { rate: rate().toFixed(0), line });
    },
    stop: () => bar.stop(),
  };
}
