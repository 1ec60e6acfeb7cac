import { UsageError } from '../errors.js';
import { checkOwnedTarget, writeOwnedTarget, type OwnedTarget } from '../results/owned-target.js';
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

/** `report --html`'s target: a new file, or a report written by `ablate report` (replaced). */
const REPORT_TARGET: OwnedTarget = {
  flag: '--html',
  what: 'a report written by ablate report',
  example: 'report.html',
  headBytes: 512,
  isOurs: (head) => head.includes(REPORT_MARK),
};

/**
 * Where `--html` may write: a new file, or a report written by `ablate report` (replaced). Any other existing
 * file, a folder, a non-regular file (a pipe such as /proc/self/fd/1), a dangling symbolic link or a missing
 * parent folder is refused (exit 2) and left unchanged.
 */
export function checkReportTarget(file: string): string {
  return checkOwnedTarget(file, REPORT_TARGET);
}

/** `ablate report FILES… --html OUT`: one self-contained HTML page for the runs (see docs/cli.md). */
export async function reportCommand(files: readonly string[], options: ReportOptions, io: { stderr: NodeJS.WritableStream }): Promise<void> {
  if (!options.html) throw new UsageError('--html', 'is required', 'e.g. --html report.html');
  if (options.examples && files.length !== 1) throw new UsageError('--examples', 'names the examples folder of one attack run; give one results file with it', 'without --examples, each attack file’s <name>-examples folder is used when it exists');
  checkReportTarget(options.html); // refused before any work
  const runs = [];
  for (const f of files) runs.push(await gatherRun(f, options));
  const html = reportHtml(runs);
  writeOwnedTarget(options.html, html, REPORT_TARGET);
  const rows = runs.reduce((a, r) => a + r.rows.length, 0);
  for (const r of runs) if (r.imagesNote) io.stderr.write(`note: ${r.name}: ${r.imagesNote}\n`);
  io.stderr.write(`wrote ${options.html} (${runs.length} run${runs.length === 1 ? '' : 's'}, ${rows} rows)\n`);
}
