import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, lstatSync, openSync, readSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.js';
import { pathError } from './results/file-errors.js';
import type { Summary } from './summary.js';

/** Written into every chart, so `summarize --plot` can tell a chart of its own (which it may replace) from any other file. */
const MARK = '<metadata id="ablate-summarize">written by ablate summarize</metadata>';
const pct1 = (x: number) => `${(100 * x).toFixed(1)}%`;

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A standalone SVG of certified accuracy vs ρ (step curves, one per run), with axes, ticks and a legend naming
 * each run's perturbation and parameters. Runs with different units get the unit in their legend entry.
 */
export function certifiedAccuracySvg(summaries: readonly Summary[], title = 'Certified accuracy vs. radius'): string {
  const W = 720;
  const legendHeight = 18 * summaries.length + 8;
  const H = 440 + legendHeight;
  const m = { left: 64, right: 24, top: 48, bottom: 56 + legendHeight };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  // attack files (dashed) plot the empirical robust accuracy: an upper bound beside the certified lower bound
  const curve = (s: Summary) => s.attack?.empiricalAccuracy ?? s.certifiedAccuracy;
  // the last step of each curve extends one unit (integer radii) or 5% of the largest radius (real radii) past it
  const lastStep = (s: Summary) => {
    const rhos = Object.keys(curve(s)).map(Number);
    const last = rhos.length ? rhos[rhos.length - 1]! : 0;
    return rhos.every((r, i) => r === i) ? 1 : Math.max(last * 0.05, Number.MIN_VALUE);
  };
  const maxRho = Math.min(Number.MAX_VALUE, Math.max(1, ...summaries.map((s) => Object.keys(curve(s)).map(Number).reduce((a, b) => Math.max(a, b), 0) + lastStep(s))));
  // coordinates rounded to 0.1 px: exact enough to draw, and free of float noise such as 393.59999999999997
  const round = (v: number) => Math.round(v * 10) / 10;
  const x = (rho: number) => round(m.left + (rho / maxRho) * pw);
  const y = (acc: number) => round(m.top + (1 - acc) * ph);
  const units = [...new Set(summaries.map((s) => s.unit))];
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push(MARK);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  // grid and ticks
  for (let i = 0; i <= 10; i++) {
    const acc = i / 10;
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y(acc)}" y2="${y(acc)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 8}" y="${y(acc) + 4}" text-anchor="end">${(acc * 100).toFixed(0)}%</text>`);
  }
  const step = Math.max(1, Math.ceil(maxRho / 12));
  for (let i = 0; i * step <= maxRho && i <= 12; i++) {
    const rho = i * step;
    parts.push(`<line x1="${x(rho)}" x2="${x(rho)}" y1="${m.top + ph}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    parts.push(`<text x="${x(rho)}" y="${m.top + ph + 18}" text-anchor="middle">${rho}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${m.top + ph + 40}" text-anchor="middle">radius ρ (${esc(units.join(' / '))})</text>`);
  parts.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${summaries.some((s) => s.attack) ? 'certified (solid) / empirical (dashed) accuracy' : 'certified accuracy'}</text>`);
  summaries.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts: string[] = [];
    const accs = Object.entries(curve(s)).map(([r, a]) => [Number(r), a] as const);
    const dash = s.attack ? ' stroke-dasharray="6 4"' : '';
    accs.forEach(([rho, acc], j) => {
      pts.push(`${x(rho).toFixed(1)},${y(acc).toFixed(1)}`);
      const next = j + 1 < accs.length ? accs[j + 1]![0] : rho + lastStep(s);
      pts.push(`${x(next).toFixed(1)},${y(acc).toFixed(1)}`);
    });
    if (accs.length) pts.push(`${x(accs[accs.length - 1]![0] + lastStep(s)).toFixed(1)},${y(0).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`);
    // legend below the chart, one line per run, so long names are never clipped
    const ly = m.top + ph + 62 + i * 18;
    const accuracy = `accuracy ${pct1(s.accuracy)} (${{ predict: 'PREDICT', certify: 'CERTIFY', base: 'base model' }[s.accuracySource]})`;
    const label = s.attack
      ? `${s.perturbation ?? s.file}, Pointwise attack (not yet fooled) — median adversarial ${s.attack.medianAdversarialMagnitude ?? '+∞'}, ${s.count} images`
      : `${s.perturbation ?? s.file}${units.length > 1 ? ` [${s.unit}]` : ''} — ${accuracy}, median ${s.medianCertifiedRadius ?? 'N/A'}, ${s.count} images`;
    parts.push(`<line x1="${m.left}" x2="${m.left + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${m.left + 30}" y="${ly + 4}">${esc(label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/**
 * Where `--plot` may write: a new file, or an SVG chart written by `ablate summarize` (replaced). Any other
 * existing file is refused (exit 2) and left unchanged; so are folders, pipes (/proc/self/fd/1), devices, a
 * dangling symbolic link and a missing parent folder. Returns the
 * real path (symbolic links resolved). Called before anything is printed.
 */
export function checkPlotTarget(file: string): string {
  let path = resolve(file);
  try {
    statSync(dirname(path));
  } catch (error) {
    throw pathError('--plot', dirname(path), error);
  }
  let size: number;
  try {
    // the named path itself first (following links): /proc/self/fd/1 is a pipe, not a missing "pipe:[…]" file
    const stat = statSync(path);
    path = realpathSync(path);
    if (stat.isDirectory()) throw new UsageError('--plot', `${file} is a folder`, 'give a file name such as curve.svg');
    if (!stat.isFile()) throw new UsageError('--plot', `${file} is not a regular file`, 'give a file name such as curve.svg');
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
      if (link) throw new UsageError('--plot', `${file} is a symbolic link to a missing file; it was left unchanged`, 'choose another file name, or remove the link');
      return path;
    }
    throw pathError('--plot', file, error);
  }
  const head = Buffer.alloc(Math.min(size, 2048));
  try {
    const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)); // a FIFO swapped in cannot hang it
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw pathError('--plot', file, error);
  }
  const text = head.toString('utf8');
  if (!(text.startsWith('<svg') && text.includes(MARK))) {
    throw new UsageError('--plot', `${file} exists and is not a chart written by ablate summarize; it was left unchanged`, 'choose another file name, or move that file away');
  }
  return path;
}

/** Writes the chart atomically (private temp file, then rename) to a target `checkPlotTarget` allowed. */
export function writePlot(file: string, svg: string): void {
  const path = checkPlotTarget(file);
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, svg, { flag: 'wx' });
    // a new file is linked into place, which fails if anything appeared there since the check (never replaced);
    // otherwise (a chart of ours there, or no hard links here) the target is checked again and replaced by a rename
    let linked = false;
    try {
      linkSync(temp, path);
      linked = true;
    } catch {
      renameSync(temp, checkPlotTarget(file));
    }
    if (linked) unlinkSync(temp);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      /* not created, or already moved */
    }
    if (error instanceof UsageError) throw error;
    throw pathError('--plot', file, error);
  }
}
