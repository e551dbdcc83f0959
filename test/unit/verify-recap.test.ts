import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mosquittoFiles } from '../../src/brokers/mosquitto/files.ts';
import { runInstall } from '../../src/cli/install-command.ts';
import { emptyFacts } from '../../src/facts/empty-facts.ts';
import { sha256 } from '../../src/operations/files.ts';
import { loadSettings } from '../../src/brokers/load-settings.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { capacityProbeLines, osReleases } from '../fixtures/facts.ts';
import { lockGrantedBy } from './support/no-start.ts';

// Issue 21 item 3: a run whose verification failed printed `failed=0` in its recap.

const directory = mkdtempSync(join(tmpdir(), 'mp-verify-recap-'));
const passwordFile = join(directory, 'pw');
writeFileSync(passwordFile, 'hunter2-secret\n');
const args = ['--host', 'root@broker.example', '--admin-user', 'admin', '--admin-password-file', passwordFile];

/** A host on which Mosquitto is already converged: the probe reports every file in place. */
function convergedHost(): Transport {
  const settings = loadSettings(undefined, { broker: 'mosquitto', adminUser: 'admin', adminPasswordFile: passwordFile });
  const files = mosquittoFiles(settings, emptyFacts());
  const probe = [
    osReleases.debian12.trimEnd(),
    'pkg\tmosquitto\t2.0.11-1.2+deb12u2',
    ...files.map((file) => `file\t${file.path}\t${sha256(file.content)}\t${file.mode.replace(/^0/, '')}\t${file.owner}\t${file.group}\t${Buffer.from(file.content).toString('base64')}`),
    'dir\t/var/lib/mosquitto\t750\tmosquitto\tmosquitto',
    'svc\tmosquitto\tactive\tenabled',
    ...capacityProbeLines('mosquitto'),
  ].join('\n');
  const exec: Transport['exec'] = async (argv) => (argv[0] === 'sh' && argv[1] === '-s' ? { code: 0, stdout: `${probe}\n`, stderr: '' } : { code: 1, stdout: '', stderr: `unexpected ${argv.join(' ')}` });
  return {
    label: 'broker.example',
    exec,
    start: lockGrantedBy(exec),
          close: async () => {},
  };
}

function environment(verifyPasses: boolean) {
  const out: string[] = [];
  return {
    out,
    env: {},
    print: (text: string) => out.push(text),
    printError: (text: string) => out.push(text),
    connect: async () => convergedHost(),
    verify: async () => verifyPasses,
  };
}

describe('recap after a failed verification', () => {
  it('counts the failed verification: exit 1, failed=1, never failed=0', async () => {
    const run = environment(false);
    assert.equal(await runInstall('mosquitto', args, run), 1);
    const text = run.out.join('\n');
    assert.match(text, /changed=0 failed=1/);
    assert.doesNotMatch(text, /failed=0/);
  });

  it('reports it as a failed step and a failed host in --json', async () => {
    const run = environment(false);
    assert.equal(await runInstall('mosquitto', [...args, '--json'], run), 1);
    const report = JSON.parse(run.out.find((line) => line.startsWith('{'))!);
    assert.equal(report.hosts[0].status, 'failed');
    assert.equal(report.hosts[0].steps.at(-1).id, 'verify');
    assert.equal(report.hosts[0].steps.at(-1).status, 'failed');
  });

  it('still says failed=0 and exits 0 when the verification passes', async () => {
    const run = environment(true);
    assert.equal(await runInstall('mosquitto', args, run), 0, run.out.join('\n'));
    assert.match(run.out.join('\n'), /changed=0 failed=0/);
  });
});
