import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { runInstall, type InstallEnvironment } from '../../src/cli/install-command.ts';
import { LocalTransport } from '../../src/transport/local.ts';

/**
 * Issue 16: --dry-run and --render-to leave the controller's files as they were; with
 * tls.generate.caDir not created yet they used to generate a CA there. The "host" of the dry run
 * is this machine through the local transport (the probe only reads), so no lab host is needed.
 */

/** Every path under root with its type, mode and content hash: a snapshot to compare. */
function snapshot(root: string): Map<string, string> {
  const entries = new Map<string, string>();
  const walk = (path: string) => {
    const stat = lstatSync(path);
    const what = stat.isDirectory() ? 'dir' : stat.isFile() ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'other';
    entries.set(relative(root, path) || '.', `${what} ${(stat.mode & 0o7777).toString(8)} ${stat.mtimeMs}`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return entries;
}

function controller(): { root: string; settings: string; caDir: string; args: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'mp-controller-'));
  mkdirSync(join(root, 'config'));
  const settings = join(root, 'config', 'tls.yaml');
  writeFileSync(settings, 'broker: mosquitto\nlisteners: { mqtt: 1883, mqtts: 8883 }\ntls:\n  generate:\n    caDir: ./ca\n    subjectAltNames: [broker.example]\n');
  const password = join(root, 'config', 'admin-password');
  writeFileSync(password, 'dry-run-secret\n', { mode: 0o600 });
  return { root, settings, caDir: join(root, 'config', 'ca'), args: ['--settings', settings, '--admin-user', 'admin', '--admin-password-file', password, '--known-hosts', join(root, 'known_hosts')] };
}

function environment(): InstallEnvironment & { out: string[]; err: string[] } {
  const recorder = {
    out: [] as string[],
    err: [] as string[],
    env: {},
    print: (text: string) => recorder.out.push(text),
    printError: (text: string) => recorder.err.push(text),
    connect: async () => new LocalTransport(),
  };
  return recorder;
}

describe('runs that change nothing write nothing on the controller', () => {
  it('--dry-run with a CA not yet created reports "would create the CA" and leaves the controller as it was', async () => {
    const { root, caDir, args } = controller();
    const before = snapshot(root);
    const env = environment();
    // Exit 0 or 1 depending on this machine's facts; what matters is what it printed and wrote.
    await runInstall('mosquitto', ['--host', 'root@127.0.0.1', ...args, '--dry-run', '--lock-timeout', '30'], env);
    const output = env.out.join('\n');
    assert.match(output, new RegExp(`would change +CA ${caDir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(on this controller\\) \\(would create the CA\\)`), output + env.err.join('\n'));
    assert.equal(existsSync(caDir), false, 'no CA directory');
    assert.deepEqual(snapshot(root), before);
  });

  it('--render-to with a CA not yet created renders the rest, says why the TLS files are not, and creates no CA', async () => {
    const { root, caDir, args } = controller();
    const out = join(mkdtempSync(join(tmpdir(), 'mp-render-')), 'out');
    const before = snapshot(root);
    const env = environment();
    assert.equal(await runInstall('mosquitto', [...args, '--render-to', out], env), 0, env.err.join('\n'));
    assert.equal(existsSync(caDir), false, 'no CA directory');
    assert.deepEqual(snapshot(root), before);
    assert.ok(existsSync(join(out, 'mosquitto.conf')));
    assert.equal(existsSync(join(out, 'server.key')), false);
    assert.match(env.err.join('\n'), /not rendered: ca\.crt, server\.crt, server\.key: the CA in .* does not exist yet, and --render-to does not create it/);
  });
});
