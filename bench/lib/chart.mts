// The bench's picture: hosts against seconds, both axes logarithmic (a 0.4 s no-op and a 120 s cold
// run share one chart), one line per tool and mode. A pure function of the figures: no dependency,
// the same input gives the same bytes, so the SVG in docs/ only changes when a run changes it.
import type { BenchRun } from './results.mts';

export interface ChartSeries {
  name: string;
  color: string;
  dashed: boolean;
  /** x = hosts, y = seconds; points with y ≤ 0 cannot sit on a log axis and are dropped. */
  points: { x: number; y: number }[];
}

export interface ChartInput { title: string; subtitle?: string; series: ChartSeries[] }

export const CHART = { width: 720, height: 440, left: 70, right: 190, top: 56, bottom: 56 } as const;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (n: number): string => (Math.round(n * 10) / 10).toString();

/** A log10 scale from [lo, hi] onto [a, b]; lo == hi maps everything to the middle. */
export function logScale(lo: number, hi: number, a: number, b: number): (v: number) => number {
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi);
  return (v) => (l1 === l0 ? (a + b) / 2 : a + ((Math.log10(v) - l0) / (l1 - l0)) * (b - a));
}

/** Powers of ten covering [lo, hi], plus lo and hi rounded out to them. */
export function decadeTicks(lo: number, hi: number): number[] {
  const first = Math.floor(Math.log10(lo));
  const last = Math.ceil(Math.log10(hi));
  return Array.from({ length: last - first + 1 }, (_, i) => 10 ** (first + i));
}

export function secondsLabel(v: number): string {
  return v >= 10 ? `${Math.round(v)} s` : v >= 1 ? `${v.toFixed(1)} s` : `${v.toFixed(2)} s`;
}

export function chartSvg(input: ChartInput): string {
  const { width, height, left, right, top, bottom } = CHART;
  const series = input.series.map((s) => ({ ...s, points: s.points.filter((p) => p.x > 0 && p.y > 0).sort((p, q) => p.x - q.x) }));
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const xTicks = [...new Set(xs)].sort((a, b) => a - b);
  const yTicks = ys.length ? decadeTicks(Math.min(...ys), Math.max(...ys)) : [0.1, 1];
  const x = logScale(xTicks[0] ?? 1, xTicks.at(-1) ?? 1, left, width - right);
  const y = logScale(yTicks[0]!, yTicks.at(-1)!, height - bottom, top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(input.title)}</text>`,
  ];
  if (input.subtitle) out.push(`<text x="${left}" y="40" fill="#555555">${esc(input.subtitle)}</text>`);
  // Grid and axes.
  for (const t of yTicks) {
    out.push(`<line class="grid" x1="${left}" y1="${fmt(y(t))}" x2="${width - right}" y2="${fmt(y(t))}" stroke="#e5e5e5"/>`);
    out.push(`<text class="y-tick" x="${left - 8}" y="${fmt(y(t) + 4)}" text-anchor="end">${secondsLabel(t)}</text>`);
  }
  for (const t of xTicks) out.push(`<text class="x-tick" x="${fmt(x(t))}" y="${height - bottom + 18}" text-anchor="middle">${t}</text>`);
  out.push(`<line class="axis x-axis" x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="#333333"/>`);
  out.push(`<line class="axis y-axis" x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="#333333"/>`);
  out.push(`<text x="${fmt((left + width - right) / 2)}" y="${height - 14}" text-anchor="middle">hosts (log scale)</text>`);
  out.push(`<text x="16" y="${fmt((top + height - bottom) / 2)}" text-anchor="middle" transform="rotate(-90 16 ${fmt((top + height - bottom) / 2)})">seconds, wall clock (log scale)</text>`);
  // Series: a line, a dot per figure and its value.
  series.forEach((s, i) => {
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<g class="series" data-name="${esc(s.name)}">`);
    if (s.points.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${s.points.map((p) => `${fmt(x(p.x))},${fmt(y(p.y))}`).join(' ')}"/>`);
    for (const p of s.points) {
      out.push(`<circle cx="${fmt(x(p.x))}" cy="${fmt(y(p.y))}" r="3.5" fill="${s.color}"><title>${esc(s.name)}: ${p.x} hosts, ${secondsLabel(p.y)}</title></circle>`);
      out.push(`<text class="value" x="${fmt(x(p.x) + 6)}" y="${fmt(y(p.y) - 6)}" fill="${s.color}" font-size="10">${secondsLabel(p.y)}</text>`);
    }
    out.push('</g>');
    // Legend, right of the plot.
    const ly = top + 10 + i * 22;
    const lx = width - right + 20;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text class="legend" x="${lx + 36}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The bench run as the four lines of the chart: ours and Ansible's, no-op and cold. */
export function benchChart(run: BenchRun): string {
  const pts = (pick: (r: BenchRun['results'][number]) => number | undefined) =>
    run.results.flatMap((r) => { const ms = pick(r); return ms === undefined ? [] : [{ x: r.hosts, y: ms / 1000 }]; });
  return chartSvg({
    title: 'Mosquitto converge: mqtt-provision vs Ansible',
    subtitle: `npm run bench, ${run.date.slice(0, 10)}, ${run.machine.cpus} CPUs; no-op = median of ${run.noopRuns}`,
    series: [
      { name: 'ours, no-op', color: '#1f6fb4', dashed: false, points: pts((r) => r.ours.noop.medianMs) },
      { name: 'ours, cold', color: '#1f6fb4', dashed: true, points: pts((r) => r.ours.cold.ms) },
      { name: 'Ansible, no-op', color: '#d9641c', dashed: false, points: pts((r) => r.ansible?.noop.medianMs) },
      { name: 'Ansible, cold', color: '#d9641c', dashed: true, points: pts((r) => r.ansible?.cold.ms) },
    ],
  });
}
