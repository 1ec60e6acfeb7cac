import { createBar } from './progress-bar.js';

/** Progress of a long run: a bar with images, samples/s and ETA on a TTY; one quiet line per image otherwise. */
export interface Progress {
  tick(info: { index: number; samples: number; line: string }): void;
  /**
   * Where the current image stands (e.g. an attack's restart and stage): shown after the bar on a TTY; otherwise
   * written as an indented line, at most once per `statusEveryMs`, so that a log shows a long image is alive.
   */
  status(line: string): void;
  stop(): void;
}

export interface ProgressOptions {
  /** The command's name at the start of the TTY bar (default `certify`). */
  name?: string;
  /** Least time between two status lines off a TTY (default 30 s). */
  statusEveryMs?: number;
}

/** The ETA is cli-progress's own (over the last images); samples/s is measured since the start. */
export function createProgress(total: number, alreadyDone: number, stream: NodeJS.WriteStream = process.stderr, options: ProgressOptions = {}): Progress {
  const started = performance.now();
  const statusEveryMs = options.statusEveryMs ?? 30_000;
  let samples = 0;
  let done = 0;
  let lastStatus = -Infinity;
  const rate = () => samples / Math.max(1e-9, (performance.now() - started) / 1000);
  const bar = createBar(stream, {
    total,
    start: alreadyDone,
    tty: `${options.name ?? 'certify'} |{bar}| {value}/{total} images | {rate} samples/s | ETA {eta_formatted} {status}`,
    line: '[{value}/{total}] {line} | {rate} samples/s | ETA {eta_formatted}',
    payload: { rate: '-', line: '', status: '' },
  });
  return {
    tick({ samples: s, line }) {
      samples += s;
      done++;
      lastStatus = performance.now(); // a finished image's line is news enough
      bar.update(alreadyDone + done, { rate: rate().toFixed(0), line, status: '' });
    },
    status(line) {
      if (stream.isTTY) {
        bar.setPayload({ status: `| ${line}` });
        return;
      }
      const now = performance.now();
      if (now - lastStatus < statusEveryMs) return;
      lastStatus = now;
      stream.write(`  … ${line}\n`);
    },
    stop: () => bar.stop(),
  };
}
