import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkedPemCacheCleanCommand } from '../../src/brokers/emqx/certificate-renewal.ts';
import { prepareEmqx } from '../../src/brokers/emqx/prepare.ts';
import type { HostFacts } from '../../src/facts/host-facts.ts';
import { restoreFile } from '../../src/operations/files.ts';
import type { Step } from '../../src/operations/step.ts';
import type { Settings } from '../../src/settings/load.ts';
import { createCa, issueServerCertificate, type KeyPairPem } from '../../src/tls/certificates.ts';
import type { TlsIssuer } from '../../src/tls/server-files.ts';
import { convergedEmqxFacts, emqxFacts, planOptions } from '../fixtures/emqx-facts.ts';
import { fakeHost, shells } from '../fixtures/emqx-fake-host.ts';
import { emqxSettings } from '../fixtures/emqx-settings.ts';
import { fileFact } from '../fixtures/facts.ts';
import { planEmqx } from '../fixtures/plan.ts';

// Issue 24 item 4, EMQX side, FROM SOURCE ONLY (src/brokers/emqx/certificate-renewal.ts): a renewed
// pair at the same paths is applied by `emqx ctl pem_cache clean node <own node>`, no restart.

const ca = createCa('EMQX renewal CA');
const tlsDir = '/etc/emqx/tls';
const issuer = (authority = ca): TlsIssuer => ({ ca: () => authority, issue: (signer: KeyPairPem, sans: string[], days: number) => issueServerCertificate(signer, sans, days), now: () => new Date() });
const settings = (generate: Record<string, unknown> = {}) =>
  emqxSettings({ listeners: { mqtt: 1883, mqtts: 8883 }, tls: { generate: { caDir: '/nonexistent/ca', subjectAltNames: ['broker1'], ...generate } } });

/** A converged EMQX host whose TLS files were issued for `first` by `by`. */
function converged(first: Settings, by = issuer()): HostFacts {
  const base = { ...emqxFacts('ubuntu2204'), sshAddress: '192.0.2.10' };
  const facts = convergedEmqxFacts(base, first);
  const tls = prepareEmqx(facts, first, { ...planOptions(), issuer: by }).tls.files;
  return {
    ...facts,
    files: { ...facts.files, ...Object.fromEntries(tls.map((file) => [file.path, fileFact(file)])) },
    directories: { ...facts.directories, [tlsDir]: { mode: '0750', owner: 'root', group: 'emqx' } },
  };
}

const changedIds = (steps: Step[]) => steps.filter((step) => step.change).map((step) => step.id);

describe('EMQX TLS renewal (fixture-level, from source)', () => {
  it('the converged fixture host plans nothing', () => {
    assert.deepEqual(changedIds(planEmqx(converged(settings()), settings(), { ...planOptions(), issuer: issuer() })), []);
  });

  it('a re-issued pair is written, then the own node\'s PEM cache is cleared: no restart', () => {
    const renew = settings({ validDays: 120, renewBeforeDays: 90 });
    const steps = planEmqx(converged(settings({ validDays: 60 })), renew, { ...planOptions(), issuer: issuer() });
    assert.deepEqual(changedIds(steps), ['pending:emqx', `file:${tlsDir}/server.crt`, `file:${tlsDir}/server.key`, 'pem-cache:emqx@127.0.0.1']);
    const step = steps.find((found) => found.id === 'pem-cache:emqx@127.0.0.1')!;
    assert.equal(step.kind, 'reload');
    assert.match(step.reason, /changed at the same paths: clearing the PEM cache/);
    assert.deepEqual(step.commands[0], checkedPemCacheCleanCommand('emqx@127.0.0.1'));
    assert.deepEqual(step.rollback!.slice(0, 3), [restoreFile(`${tlsDir}/server.crt`), restoreFile(`${tlsDir}/server.key`), checkedPemCacheCleanCommand('emqx@127.0.0.1')]);
  });

  it('a new CA restarts EMQX (conservative: not proven on a real node)', () => {
    const other = createCa('other CA');
    const steps = planEmqx(converged(settings(), issuer(other)), settings(), { ...planOptions(), issuer: issuer() });
    assert.deepEqual(changedIds(steps), ['pending:emqx', `file:${tlsDir}/ca.crt`, `file:${tlsDir}/server.crt`, `file:${tlsDir}/server.key`, 'restart:emqx']);
  });

  it('a stopped node is started instead (it reads the files when its listeners start)', () => {
    const facts = converged(settings({ validDays: 60 }));
    const stopped = { ...facts, services: { emqx: { active: 'inactive', enabled: 'enabled' } } };
    const steps = planEmqx(stopped, settings({ validDays: 120, renewBeforeDays: 90 }), { ...planOptions(), issuer: issuer() });
    assert.deepEqual(changedIds(steps), ['pending:emqx', `file:${tlsDir}/server.crt`, `file:${tlsDir}/server.key`, 'start:emqx']);
  });

  for (const shell of shells) {
    it(`the checked PEM cache clean passes on "OK" and fails on "FAILED" from the fake emqx (${shell})`, () => {
      const host = fakeHost({ node: 'emqx@10.0.0.5' });
      const ok = host.run(checkedPemCacheCleanCommand('emqx@10.0.0.5'), shell);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(host.state().pemCacheCleans, 1);
      const wrong = host.run(checkedPemCacheCleanCommand('emqx@10.0.0.6'), shell);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stdout, /emqx@10\.0\.0\.6 PEM cache clean FAILED\nunknown_node/);
      assert.match(wrong.stderr, /EMQX did not confirm the PEM cache clean on emqx@10\.0\.0\.6/);
      host.setState({ ...host.state(), running: false });
      assert.equal(host.run(checkedPemCacheCleanCommand('emqx@10.0.0.5'), shell).code, 1, 'a node that is down');
      assert.equal(host.state().pemCacheCleans, 1);
    });
  }
});
