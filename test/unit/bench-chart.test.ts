import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchChart, chartSvg, CHART, decadeTicks, logScale, secondsLabel } from '../../bench/lib/chart.mts';
import { BEGIN, END, replaceGenerated } from '../../bench/lib/docs.mts';
import { coldPhases, resultsMarkdown, type BenchRun } from '../../bench/lib/results.mts';

const attrs = (tag: string): Record<string, string> => Object.fromEntries([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
const tags = (svg: string, name: string): Record<string, string>[] => [...svg.matchAll(new RegExp(`<${name}\\b[^>]*>`, 'g'))].map((m) => attrs(m[0]));

const input = {
  title: 'T <1>',
  series: [
    { name: 'fast', color: '#111111', dashed: false, points: [{ x: 1, y: 0.4 }, { x: 100, y: 2 }, { x: 10, y: 1 }] },
    { name: 'slow', color: '#222222', dashed: true, points: [{ x: 1, y: 8 }, { x: 10, y: 120 }] },
  ],
};

test('the chart has both axes, one decade tick per power of ten, and the host counts on x', () => {
  const svg = chartSvg(input);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal(tags(svg, 'line').filter((l) => /axis/.test(l.class ?? '')).length, 2);
  const yTicks = [...svg.matchAll(/class="y-tick"[^>]*>([^<]+)</g)].map((m) => m[1]);
  assert.deepEqual(yTicks, ['0.10 s', '1.0 s', '10 s', '100 s', '1000 s']);
  const xTicks = [...svg.matchAll(/class="x-tick"[^>]*>([^<]+)</g)].map((m) => m[1]);
  assert.deepEqual(xTicks, ['1', '10', '100']);
  assert.match(svg, /T &lt;1&gt;/, 'the title is escaped');
});

test('each series is a line through its points, in host order, with each value placed on the log scales', () => {
  const svg = chartSvg(input);
  const polylines = tags(svg, 'polyline');
  assert.equal(polylines.length, 2);
  assert.equal(polylines[1]!['stroke-dasharray'], '6 4', 'the second series is dashed');
  assert.equal(polylines[0]!['stroke-dasharray'], undefined);
  const x = logScale(1, 100, CHART.left, CHART.width - CHART.right);
  const y = logScale(0.1, 1000, CHART.height - CHART.bottom, CHART.top);
  const r1 = (n: number) => Math.round(n * 10) / 10;
  const expected = [[1, 0.4], [10, 1], [100, 2]].map(([h, s]) => `${r1(x(h!))},${r1(y(s!))}`).join(' ');
  assert.equal(polylines[0]!.points, expected);
  const circles = tags(svg, 'circle');
  assert.equal(circles.length, 5);
  // The 120 s point sits between the 100 s and 1000 s grid lines, nearer 100 s.
  const c = circles.find((ci) => Number(ci.cy) === r1(y(120)))!;
  assert.ok(Number(c.cy) < y(100) && Number(c.cy) > y(1000));
  assert.equal(Number(c.cx), r1(x(10)));
  const values = [...svg.matchAll(/class="value"[^>]*>([^<]+)</g)].map((m) => m[1]);
  assert.deepEqual(values, ['0.40 s', '1.0 s', '2.0 s', '8.0 s', '120 s']);
  assert.deepEqual([...svg.matchAll(/class="legend"[^>]*>([^<]+)</g)].map((m) => m[1]), ['fast', 'slow']);
});

test('the scales and labels behave at their edges', () => {
  assert.deepEqual(decadeTicks(0.35, 44), [0.1, 1, 10, 100]);
  assert.equal(logScale(5, 5, 0, 100)(5), 50);
  assert.equal(secondsLabel(0.388), '0.39 s');
  assert.equal(secondsLabel(44.05), '44 s');
});

const run: BenchRun = {
  date: '2026-11-25T19:26:04.266Z', machine: { cpus: 2, cpuModel: 'AMD EPYC', memGb: 23.5, node: 'v24.21.0', platform: 'Linux' },
  noopRuns: 3, ansibleVersion: 'ansible-playbook [core 2.14.18]', complete: true,
  results: [
    { hosts: 1, ours: { cold: { ms: 3449, maxRssKb: 121376, treeRssKb: 122576 }, noop: { runsMs: [371, 400, 388], medianMs: 388, maxRssKb: 121556, treeRssKb: 122176 } },
      ansible: { cold: { ms: 8193, maxRssKb: 63880, treeRssKb: 129376 }, noop: { runsMs: [3910, 3233, 3440], medianMs: 3440, maxRssKb: 61336, treeRssKb: 127744 } } },
    { hosts: 100, load: 3.25, ours: { cold: { ms: 90_000, maxRssKb: 200_000, treeRssKb: 210_000 }, noop: { runsMs: [2000], medianMs: 2000, maxRssKb: 190_000, treeRssKb: 195_000 } },
      ansibleSkipped: 'not run above 20 hosts (--ansible-max-hosts)' },
  ],
};

test('the bench chart draws ours and Ansible, no-op and cold, and leaves out what did not run', () => {
  const svg = benchChart(run);
  const names = [...svg.matchAll(/<g class="series" data-name="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(names, ['ours, no-op', 'ours, cold', 'Ansible, no-op', 'Ansible, cold']);
  assert.match(svg, /<title>Ansible, no-op: 1 hosts, 3\.4 s<\/title>/);
  assert.doesNotMatch(svg, /Ansible, [a-z-]+: 100 hosts/);
  assert.match(svg, /<title>ours, no-op: 100 hosts, 2\.0 s<\/title>/);
});

test('the results table gives each K its figures and ratios, and says when Ansible was not run', () => {
  const md = resultsMarkdown(run);
  assert.match(md, /\| 1 \| – \| 3\.45 s \| 8\.19 s \| 2\.38 \| \*\*0\.39 s\*\* \| 3\.44 s \| 8\.87 \|/);
  assert.match(md, /\| 100 \| 3\.3 \| 90\.00 s \| not run \|.*not run above 20 hosts/);
});

test('cold phases split each host into connect/facts, packages, files, restart, and the controller rest', () => {
  const phases = coldPhases({ hosts: [
    { durationMs: 3000, steps: [{ id: 'packages:mosquitto', durationMs: 2000 }, { id: 'file:/a', durationMs: 100 }, { id: 'dir:/d', durationMs: 50 }, { id: 'service:mosquitto', durationMs: 300 }] },
    { durationMs: 5000, steps: [{ id: 'packages:mosquitto', durationMs: 4000 }, { id: 'file:/a', durationMs: 200 }, { id: 'service:mosquitto', durationMs: 500 }] },
  ] }, 5600);
  // Per host: connect etc. = 3000 - 2450 = 550 and 5000 - 4700 = 300; with two hosts the median is the upper one.
  assert.deepEqual(phases.map((p) => [p.phase, p.medianMs, p.maxMs]), [
    ['controller (start, modules, report)', 600, 600],
    ['connect, lock, facts, plan', 550, 550],
    ['packages', 4000, 4000],
    ['files', 200, 200],
    ['restart and service', 500, 500],
  ]);
});

test('the generated block replaces only what lies between the markers', () => {
  const doc = `# Title\nbefore\n${BEGIN}\nold table\n${END}\nafter\n`;
  assert.equal(replaceGenerated(doc, 'new table\n'), `# Title\nbefore\n${BEGIN}\nnew table\n${END}\nafter\n`);
  assert.throws(() => replaceGenerated('# no markers', 'x'), /markers/);
});
