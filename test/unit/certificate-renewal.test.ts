import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emqxTlsApply, pemCacheCleanCommand } from '../../src/brokers/emqx/certificate-renewal.ts';
import { mosquittoTlsApply } from '../../src/brokers/mosquitto/certificate-renewal.ts';
import { tlsLayoutIn } from '../../src/tls/server-files.ts';

// Issue 24 item 4: which renewals can be applied without dropping clients (notes-24-edge.md).
const layout = tlsLayoutIn('/etc/mosquitto/tls', 'mosquitto');
const config = '/etc/mosquitto/mosquitto.conf';

describe('Mosquitto: reload or restart after a TLS file change', () => {
  it('reloads when only the server certificate and key change', () => {
    const apply = mosquittoTlsApply({ changedPaths: [layout.certFile, layout.keyFile], layout, servesWss: false });
    assert.equal(apply.how, 'reload');
    assert.match((apply as { reason: string }).reason, /server\.crt, .*server\.key changed: SIGHUP/);
  });

  it('restarts when the CA changes, even together with the pair: SIGHUP does not re-read cafile', () => {
    for (const changedPaths of [[layout.caFile], [layout.caFile, layout.certFile, layout.keyFile]]) {
      const apply = mosquittoTlsApply({ changedPaths, layout, servesWss: false });
      assert.equal(apply.how, 'restart', changedPaths.join(' '));
      assert.match((apply as { reason: string }).reason, /ca\.crt changed/);
    }
  });

  it('restarts a renewal while a wss listener is served: libwebsockets keeps the old certificate', () => {
    assert.equal(mosquittoTlsApply({ changedPaths: [layout.certFile, layout.keyFile], layout, servesWss: true }).how, 'restart');
  });

  it('leaves the decision to the other files when no TLS file changed', () => {
    assert.deepEqual(mosquittoTlsApply({ changedPaths: [config], layout, servesWss: true }), { how: 'none' });
  });
});

describe('EMQX: PEM cache or restart after a TLS file change (from source, not run)', () => {
  const emqx = tlsLayoutIn('/etc/emqx/certs/mqtt-provision', 'emqx');

  it('clears the PEM cache of its own node for a renewed pair at the same paths', () => {
    assert.equal(emqxTlsApply([emqx.certFile, emqx.keyFile], emqx).how, 'pem-cache-clean');
    assert.deepEqual(pemCacheCleanCommand('emqx@10.0.0.5').argv, ['emqx', 'ctl', 'pem_cache', 'clean', 'node', 'emqx@10.0.0.5']);
  });

  it('restarts for a CA change and does nothing without a TLS change', () => {
    assert.equal(emqxTlsApply([emqx.caFile, emqx.certFile], emqx).how, 'restart');
    assert.deepEqual(emqxTlsApply(['/etc/emqx/emqx.conf'], emqx), { how: 'none' });
  });
});
