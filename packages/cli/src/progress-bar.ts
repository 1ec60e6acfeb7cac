import cliProgress from 'cli-progress';

/**
 * A cli-progress bar whose ETA (cli-progress's own, over its `etaBuffer` last updates) is shown either as the
 * usual redrawn bar on a TTY, or — on a pipe or file — as one plain line per `update`, formatted by the same
 * template (cli-progress draws nothing off a TTY, so it is fed a silent terminal and the line is written here).
 */
export interface Bar {
  update(value: number, payload: Record<string, unknown>): void;
  /** Changes the payload only (TTY: redrawn with the next frame); the value and the ETA stay as they are. */
  setPayload(payload: Record<string, unknown>): void;
  stop(): void;
}

export function createBar(stream: NodeJS.WriteStream, options: { total: number; start: number; tty: string; line: string; payload: Record<string, unknown>; etaBuffer?: number }): Bar {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar({ format: options.tty, hideCursor: true, stream, clearOnComplete: false, etaBuffer: options.etaBuffer ?? 20 }, cliProgress.Presets.shades_classic);
    bar.start(options.total, options.start, options.payload);
    return { update: (value, payload) => bar.update(value, payload), setPayload: (payload) => bar.update(payload), stop: () => bar.stop() };
  }
  let printed = options.start;
  const format: cliProgress.GenericFormatter = (opts, params, payload) => {
    const text = cliProgress.Format.Formatter({ ...opts, format: options.line }, params, payload);
    if (params.value !== printed) {
      printed = params.value;
      stream.write(`${text}\n`);
    }
    return text;
  };
  const silent = { isTTY: true, columns: 200, write: () => true, cursorTo: () => true, clearLine: () => true, moveCursor: () => true, clearScreenDown: () => true, on: () => silent, removeListener: () => silent } as unknown as NodeJS.WriteStream;
  const bar = new cliProgress.SingleBar({ format, stream: silent, gracefulExit: false, etaBuffer: options.etaBuffer ?? 20, synchronousUpdate: false });
  bar.start(options.total, options.start, options.payload);
  return {
    update(value, payload) {
      bar.update(value, payload);
      bar.render();
    },
    setPayload: (payload) => bar.update(payload),
    stop: () => bar.stop(),
  };
}
