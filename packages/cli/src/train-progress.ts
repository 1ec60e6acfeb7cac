import type { TrainBatch, TrainEpoch, TrainStart } from '@ablate/backend-tfjs';
import cliProgress from 'cli-progress';
import { createBar, type Bar } from './progress-bar.js';

/** Batches timed before the up-front estimate (the first one, which compiles kernels, is not counted). */
export const ESTIMATE_BATCHES = 3;

/**
 * What `ablate train` prints: the backend that trains (and, when it is not native TensorFlow, that training will
 * be slow and how to get the native one), an estimate of the whole run measured on the first batches, a
 * progress bar per batch with cli-progress's ETA, and one line per epoch.
 */
export function createTrainProgress(stream: NodeJS.WriteStream) {
  let bar: Bar | undefined;
  let total = 0;
  let firstBatchAt: number | undefined;
  let estimated = false;
  return {
    start(s: TrainStart) {
      total = s.batchesPerEpoch * s.epochs;
      if (s.backend === 'tensorflow') {
        stream.write(`training on native TensorFlow (tfjs backend "tensorflow"): ${s.epochs} epoch(s) × ${s.batchesPerEpoch} batches\n`);
      } else {
        stream.write(
          `training on the tfjs "${s.backend}" backend (${s.backend === 'cpu' ? 'pure JavaScript' : 'WebAssembly'}), not native TensorFlow: ${s.skipped.join('; ') || 'not requested'}.\n` +
            `  This is much slower (minutes per epoch for the paper's CNN). For native speed: npm install @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA).\n`,
        );
      }
      bar = createBar(stream, {
        total,
        start: 0,
        tty: 'train |{bar}| batch {value}/{total} | epoch {epoch} | loss {loss} | ETA {eta_formatted}',
        line: '[batch {value}/{total}] epoch {epoch}, loss {loss} | ETA {eta_formatted}',
        payload: { epoch: 1, loss: '-' },
      });
    },
    batch(b: TrainBatch) {
      const done = (b.epoch - 1) * b.batchesPerEpoch + b.batch;
      if (done === 1) firstBatchAt = b.seconds;
      if (!estimated && firstBatchAt !== undefined && (done === 1 + ESTIMATE_BATCHES || done === total)) {
        estimated = true;
        const perBatch = done > 1 ? (b.seconds - firstBatchAt) / (done - 1) : b.seconds;
        const rest = perBatch * (total - done);
        stream.write(`estimate: ${perBatch.toFixed(2)} s per batch (measured over batches 2–${done}) → about ${cliProgress.Format.TimeFormat(b.seconds + rest, { autopaddingChar: '' } as never, 1)} for ${total} batches\n`);
      }
      bar?.update(done, { epoch: b.epoch, loss: b.loss.toFixed(4) });
    },
    epoch(e: TrainEpoch) {
      stream.write(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, accuracy ${(100 * e.accuracy).toFixed(2)}% (${e.seconds.toFixed(1)} s)\n`);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
