// Process helpers of the bench: run a command, or time it under GNU time with the peak RSS of its tree.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

export const RUN_TIMEOUT_MS = 15 * 60_000;

export interface Timed {
  ms: number;
  exitCode: number;
  /** GNU time's "Maximum resident set size": the largest single process of the tree. */
  maxRssKb: number;
  /** Sampled every 100 ms: the sum over the controller's whole process tree (forks, ssh). */
  treeRssKb: number;
  stdout: string;
  stderr: string;
}

export interface RunResult { exitCode: number; stdout: string; stderr: string }

export function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? -1, stdout, stderr });
    });
  });
}

export async function ensureTool(binary: string, aptPackage: string, cwd: string): Promise<void> {
  const found = await run('sh', ['-c', `command -v ${binary}`], { cwd });
  if (found.exitCode === 0) return;
  console.log(`[bench] installing ${aptPackage} (apt-get)`);
  const r = await run('apt-get', ['install', '-y', '-q', aptPackage], { cwd, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.exitCode !== 0) throw new Error(`apt-get install ${aptPackage} failed:\n${r.stderr}`);
}

/** Sum of RSS (kB) of `root` and all its descendants, from /proc. */
async function treeRss(root: number): Promise<number> {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  const page = 4; // kB
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(entry), Number(rest[1]));
      rss.set(Number(entry), Number(rest[21]) * page);
    } catch { /* exited meanwhile */ }
  }
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parent) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

export async function timed(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Timed> {
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-v', cmd, ...args], { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let peakTree = 0;
  let sampling = false;
  const sampler = setInterval(() => {
    if (sampling || child.pid === undefined) return;
    sampling = true;
    treeRss(child.pid).then((kb) => { peakTree = Math.max(peakTree, kb); }, () => {}).finally(() => { sampling = false; });
  }, 100);
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
  const ms = performance.now() - t0;
  clearInterval(sampler);
  clearTimeout(timer);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const status = /Exit status: (\d+)/.exec(stderr);
  return { ms, exitCode: status ? Number(status[1]) : exitCode, maxRssKb: m ? Number(m[1]) : NaN, treeRssKb: peakTree, stdout, stderr };
}

export const tail = (s: string, n = 40): string => s.split('\n').slice(-n).join('\n');
