import type { Summary } from './summary.js';

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
  const maxRho = Math.max(1, ...summaries.map((s) => Object.keys(s.certifiedAccuracy).length));
  // coordinates rounded to 0.1 px: exact enough to draw, and free of float noise such as 393.59999999999997
  const round = (v: number) => Math.round(v * 10) / 10;
  const x = (rho: number) => round(m.left + (rho / maxRho) * pw);
  const y = (acc: number) => round(m.top + (1 - acc) * ph);
  const units = [...new Set(summaries.map((s) => s.unit))];
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  // grid and ticks
  for (let i = 0; i <= 10; i++) {
    const acc = i / 10;
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y(acc)}" y2="${y(acc)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 8}" y="${y(acc) + 4}" text-anchor="end">${(acc * 100).toFixed(0)}%</text>`);
  }
  const step = Math.max(1, Math.ceil(maxRho / 12));
  for (let rho = 0; rho <= maxRho; rho += step) {
    parts.push(`<line x1="${x(rho)}" x2="${x(rho)}" y1="${m.top + ph}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    parts.push(`<text x="${x(rho)}" y="${m.top + ph + 18}" text-anchor="middle">${rho}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${m.top + ph + 40}" text-anchor="middle">radius ρ (${esc(units.join(' / '))})</text>`);
  parts.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">certified accuracy</text>`);
  summaries.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts: string[] = [];
    const accs = Object.entries(s.certifiedAccuracy).map(([r, a]) => [Number(r), a] as const);
    accs.forEach(([rho, acc], j) => {
      pts.push(`${x(rho).toFixed(1)},${y(acc).toFixed(1)}`);
      const next = j + 1 < accs.length ? accs[j + 1]![0] : rho + 1;
      pts.push(`${x(next).toFixed(1)},${y(acc).toFixed(1)}`);
    });
    if (accs.length) pts.push(`${x(accs[accs.length - 1]![0] + 1).toFixed(1)},${y(0).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    // legend below the chart, one line per run, so long names are never clipped
    const ly = m.top + ph + 62 + i * 18;
    const label = `${s.perturbation ?? s.file}${units.length > 1 ? ` [${s.unit}]` : ''} — median ${s.medianCertifiedRadius ?? 'N/A'}, ${s.count} images`;
    parts.push(`<line x1="${m.left}" x2="${m.left + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${m.left + 30}" y="${ly + 4}">${esc(label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
