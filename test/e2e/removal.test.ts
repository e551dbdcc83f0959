import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { changedCount, hostArgs, install, onHost, writeSecretFile } from './support/lab-fixture.ts';
import { validate } from '../unit/support/json-schema.ts';

// Issue 23 item 3: `state: absent` left mosquitto.conf, an empty tls directory and dpkg's `rc`
// state behind, and a later install found the old config "up to date".

const passwordFile = writeSecretFile('removal-admin-password\n');
const admin = ['--admin-user', 'admin', '--admin-password-file', passwordFile];
const caDir = join(dirname(passwordFile), 'ca');

function settingsFile(name: string, extra: string[] = []): string {
  const path = join(dirname(passwordFile), `${name}.yaml`);
  const lines = ['broker: mosquitto', 'listeners: { mqtt: 1883, mqtts: 8883 }', 'tls:', '  generate:', `    caDir: ${caDir}`, '    subjectAltNames: [broker.lab.test]', ...extra, ''];
  writeFileSync(path, lines.join('\n'));
  return path;
}

const present = settingsFile('present');
const absent = settingsFile('absent', ['state: absent']);
const purged = settingsFile('purged', ['state: absent', 'purgeData: true']);

describe('state absent on a Debian lab host leaves nothing mqtt-provision manages', () => {
  let host: LabHost;
  const run = async (settings: string) => install([...(await hostArgs(host)), '--settings', settings, ...admin, '--no-verify', '--json']);
  /** What is left: dpkg's status letters for mosquitto, and which of our paths exist. */
  const leftovers = async () =>
    (
      await onHost(host, [
        'sh',
        '-c',
        "dpkg-query -W -f='${db:Status-Abbrev}' mosquitto 2>/dev/null || echo gone; echo; for p in /etc/mosquitto/mosquitto.conf /etc/mosquitto/passwd /etc/mosquitto/acl /etc/mosquitto/tls /etc/mosquitto /var/lib/mosquitto; do [ -e \"$p\" ] && echo \"$p\"; done; true",
      ])
    ).trim();

  before(async () => {
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix: 'mp-e2e-removal', publish: [1883, 8883] })) as [LabHost];
  });
  after(async () => {
    if (host) await stopLabHosts([host.name]);
  });

  it('absent removes our files and the tls directory; purgeData purges the package (no rc); a re-install converges fresh', async () => {
    const installed = await run(present);
    assert.equal(installed.code, 0, installed.output + installed.errors);

    const removed = await run(absent);
    assert.equal(removed.code, 0, removed.output);
    assert.deepEqual(validate('install.json', JSON.parse(removed.output)), [], 'a real --json document has the documented shape');
    let left = await leftovers();
    assert.match(left, /^rc/, 'a remove keeps the package config (dpkg rc)');
    assert.doesNotMatch(left, /mosquitto\.conf|passwd|acl|\/tls/, left);
    assert.equal(changedCount((await run(absent)).output), 0, 'absent twice: no change');

    const purge = await run(purged);
    assert.equal(purge.code, 0, purge.output);
    left = await leftovers();
    assert.doesNotMatch(left, /^rc/, left);
    assert.doesNotMatch(left, /\/etc\/mosquitto|\/var\/lib\/mosquitto/, left);
    assert.equal(changedCount((await run(purged)).output), 0, 'purged twice: no change');

    const again = await run(present);
    assert.equal(again.code, 0, again.output + again.errors);
    const steps = (JSON.parse(again.output) as { hosts: Array<{ steps: Array<{ id: string; status: string }> }> }).hosts[0]!.steps;
    for (const id of ['file:/etc/mosquitto/mosquitto.conf', 'file:/etc/mosquitto/tls/server.crt']) {
      assert.equal(steps.find((step) => step.id === id)?.status, 'changed', `${id} written fresh, not found "up to date"`);
    }
    assert.equal((await onHost(host, ['systemctl', 'is-active', 'mosquitto'])).trim(), 'active');
    assert.equal(changedCount((await run(present)).output), 0, 'converged: second run changes nothing');
  });
});
