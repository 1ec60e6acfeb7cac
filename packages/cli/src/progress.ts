import cliProgress from 'cli-progress';

/** Progress of a long run: a bar with images, samples/s and ETA on a TTY; one quiet line per image otherwise. */
export interface Progress {
  tick(info: { index: number; samples: number; line: string }): void;
  stop(): void;
}

const eta = (seconds: number) => {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

export function createProgress(total: number, alreadyDone: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = performance.now();
  let samples = 0;
  let done = 0;
  const rate = () => samples / Math.max(1e-9, (performance.now() - started) / 1000);
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: 'certify |{bar}| {value}/{total} images | {rate} samples/s | ETA {eta_text}', hideCursor: true, stream, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, alreadyDone, { rate: '-', eta_text: '?' });
    return {
      tick({ samples: s }) {
        samples += s;
        done++;
        const perImage = (performance.now() - started) / 1000 / done;
        bar.update(alreadyDone + done, { rate: rate().toFixed(0), eta_text: eta(perImage * (total - alreadyDone - done)) });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    tick({ samples: s, line }) {
      samples += s;
      done++;
      const perImage = (performance.now() - started) / 1000 / done;
      stream.write(`[${alreadyDone + done}/${total}] ${line} | ${rate().toFixed(0)} samples/s | ETA ${eta(perImage * (total - alreadyDone - done))}\n`);
    },
    stop() {},
  };
}
