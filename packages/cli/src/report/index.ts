import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, lstatSync, openSync, readSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { pathError } from '../results/index.js';
import { gatherRun } from './data.js';
import { REPORT_MARK, reportHtml } from './html.js';

export { gatherRun, MAX_REPORT_INPUT_BYTES, MAX_EXAMPLE_PNG_BYTES, MAX_REPORT_THUMBNAILS, MAX_REPORT_THUMBNAIL_BYTES, type ReportRow, type ReportRun } from './data.js';
export { reportHtml, REPORT_MARK } from './html.js';

/** Options of `ablate report`. */
export interface ReportOptions {
  html: string;
  dataPath?: string;
  examples?: string;
  thumbnails?: boolean;
}

/**
 * Where `--html` may write: a new file, or a report written by `ablate report` (replaced). Any other existing
 * file, a folder, a non-regular file (a pipe such as /proc/self/fd/1), a dangling symbolic link or a missing
 * parent folder is refused (exit 2) and left unchanged.
 */
export function checkReportTarget(file: string): string {
  let path = resolve(file);
  try {
    statSync(dirname(path));
  } catch (error) {
    throw pathError('--html', dirname(path), error);
  }
  let size: number;
  try {
    // the named path itself first (following links): /proc/self/fd/1 is a pipe, not a missing "pipe:[…]" file
    const stat = statSync(path);
    path = realpathSync(path);
    if (stat.isDirectory()) throw new UsageError('--html', `${file} is a folder`, 'give a file name such as report.html');
    if (!stat.isFile()) throw new UsageError('--html', `${file} is not a regular file`, 'give a file name such as report.html');
    size = stat.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      // nothing there — unless a symbolic link to a missing file is: it is not ablate's to replace
      let link = false;
      try {
        link = lstatSync(path).isSymbolicLink();
      } catch {
        /* nothing at all: a new file */
      }
      if (link) throw new UsageError('--html', `${file} is a symbolic link to a missing file; it was left unchanged`, 'choose another file name, or remove the link');
      return path;
    }
    throw pathError('--html', file, error);
  }
  const head = Buffer.alloc(Math.min(size, 512));
  try {
    const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)); // a FIFO swapped in cannot hang it
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw pathError('--html', file, error);
  }
  if (!head.toString('utf8').includes(REPORT_MARK)) {
    throw new UsageError('--html', `${file} exists and is not a report written by ablate report; it was left unchanged`, 'choose another file name, or move that file away');
  }
  return path;
}

/** `ablate report FILES… --html OUT`: one self-contained HTML page for the runs (see docs/cli.md). */
export async function reportCommand(files: readonly string[], options: ReportOptions, io: { stderr: NodeJS.WritableStream }): Promise<void> {
  if (!options.html) throw new UsageError('--html', 'is required', 'e.g. --html report.html');
  if (options.examples && files.length !== 1) throw new UsageError('--examples', 'names the examples folder of one attack run; give one results file with it', 'without --examples, each attack file’s <name>-examples folder is used when it exists');
  checkReportTarget(options.html); // refused before any work
  const runs = [];
  for (const f of files) runs.push(await gatherRun(f, options));
  const html = reportHtml(runs);
  const path = checkReportTarget(options.html);
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, html, { flag: 'wx' });
    // a new file is linked into place, which fails if anything appeared there since the check (never replaced);
    // otherwise (a report of ours there, or no hard links on this file system) the target is checked again and
    // replaced by a rename
    let linked = false;
    try {
      linkSync(temp, path);
      linked = true;
    } catch {
      renameSync(temp, checkReportTarget(options.html));
    }
    if (linked) unlinkSync(temp);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      /* not created, or already moved */
    }
    if (error instanceof UsageError) throw error;
    throw pathError('--html', options.html, error);
  }
  const rows = runs.reduce((a, r) => a + r.rows.length, 0);
  for (const r of runs) if (r.imagesNote) io.stderr.write(`note: ${r.name}: ${r.imagesNote}\n`);
  io.stderr.write(`wrote ${options.html} (${runs.length} run${runs.length === 1 ? '' : 's'}, ${rows} rows)\n`);
}
