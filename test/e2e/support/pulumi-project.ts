// A copy of the Pulumi project in a temp directory, driven by the real `pulumi` CLI with a local file
// backend of its own: the tests never edit the repository's stacks/ files or a user's ~/.pulumi.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** What the program needs to run: everything else in the checkout is left out. */
const projectFiles = ['Pulumi.yaml', 'package.json', 'index.ts', 'src', 'templates'];

let cliPath: string | undefined;

/** PATH entries holding `pulumi` and its plugins; scripts/pulumi-cli.sh builds the CLI once if needed. */
export function pulumiPath(): string {
  cliPath ??= execFileSync('bash', [join(repoRoot, 'scripts/pulumi-cli.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    // A first build from the Go module proxy takes minutes on two shared cores.
    timeout: 60 * 60_000,
  }).trim();
  return cliPath;
}

export interface PulumiRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface PulumiProject {
  /** The project directory (Pulumi.yaml, index.ts, src/, stacks/, .lab/); may be moved with `moveTo`. */
  dir: string;
  /** Runs `pulumi <args>` in the project directory; never throws on a non-zero exit. */
  run(args: string[], timeoutMs?: number): Promise<PulumiRun>;
  /** Runs it and throws, with the output, unless it exits 0. */
  ok(args: string[], timeoutMs?: number): Promise<PulumiRun>;
  /** Renames the project directory, as if the checkout had moved; the old path is gone afterwards. */
  moveTo(dir: string): void;
}

/**
 * Copies the program into `<root>/project` (node_modules linked to this checkout's), and logs the
 * CLI in to a file backend in `<root>/state` with its own PULUMI_HOME: the quick start of
 * docs/pulumi.md, in a temp directory.
 */
export async function createProject(root: string, passphrase: string): Promise<PulumiProject> {
  let dir = join(root, 'project');
  mkdirSync(dir, { recursive: true });
  for (const file of projectFiles) cpSync(join(repoRoot, file), join(dir, file), { recursive: true });
  mkdirSync(join(dir, 'stacks'));
  symlinkSync(realpathSync(join(repoRoot, 'node_modules')), join(dir, 'node_modules'));
  const state = join(root, 'state');
  mkdirSync(state);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${pulumiPath()}:${process.env.PATH ?? ''}`,
    PULUMI_HOME: join(root, 'pulumi-home'),
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    PULUMI_CONFIG_PASSPHRASE: passphrase,
  };
  const run = (args: string[], timeoutMs = 15 * 60_000) => runPulumi(args, dir, env, timeoutMs);
  const ok = async (args: string[], timeoutMs?: number) => {
    const result = await run(args, timeoutMs);
    if (result.code !== 0) throw new Error(`pulumi ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    return result;
  };
  await ok(['login', `file://${state}`]);
  return {
    get dir() {
      return dir;
    },
    run,
    ok,
    moveTo(target: string) {
      execFileSync('mv', [dir, target]);
      dir = target;
    },
  };
}

/** A fresh temp directory for one test's project and state. */
export function tempRoot(name: string): string {
  return mkdtempSync(join(tmpdir(), `mp-${name}-`));
}

function runPulumi(args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<PulumiRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('pulumi', [...args, '--non-interactive', '--color', 'never'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, ms: Date.now() - started });
    });
  });
}
