import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/progress.js';

/** A pipe-like stream (not a TTY) that keeps what is written. */
function pipe() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WriteStream;
  return { lines, stream };
}

describe('createProgress off a TTY', () => {
  it('writes one line per finished image and status lines at most once per statusEveryMs', () => {
    const { lines, stream } = pipe();
    const progress = createProgress(3, 1, stream, { name: 'attack', statusEveryMs: 60_000 });
    progress.status('image 1: restart 1/10, init'); // first status: written
    progress.status('image 1: restart 1/10, reset, 40 pixels'); // within the interval: dropped
    expect(lines).toEqual(['  … image 1: restart 1/10, init\n']);
    progress.tick({ index: 1, samples: 100, line: 'image 1: done' });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^\[2\/3\] image 1: done \| \d+ samples\/s \| ETA /);
    progress.status('image 2: restart 1/10, init'); // a finished image restarts the interval
    expect(lines).toHaveLength(2);
    progress.stop();
  });

  it('writes every status line when the interval is 0', () => {
    const { lines, stream } = pipe();
    const progress = createProgress(2, 0, stream, { statusEveryMs: 0 });
    progress.status('a');
    progress.status('b');
    expect(lines).toEqual(['  … a\n', '  … b\n']);
    progress.stop();
  });
});
