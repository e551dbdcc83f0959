import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { SshTransport } from '../../src/transport/ssh.ts';
import { ConnectionError } from '../../src/transport/transport.ts';

/**
 * A real SSH server in this process (ssh2's Server) whose exec behaviour each test picks: the
 * transport's error paths need a connection that really resets or a command that really dies.
 */
type Behaviour = 'reset' | 'signal' | 'ok';
let behaviour: Behaviour = 'ok';
let server: ssh2.Server;
let port = 0;
const serverSide = new Set<ssh2.Connection>();

before(async () => {
  // ssh2's ed25519 keygen drops a public key's leading zero byte, so about 1 key in 256 does not
  // parse ("Malformed OpenSSH private key", mscdex/ssh2#1513): take the first key that parses.
  let hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
  while (ssh2.utils.parseKey(hostKey) instanceof Error) hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
  server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    serverSide.add(client);
    client.on('close', () => serverSide.delete(client));
    client.on('error', () => {});
    client.on('authentication', (context) => (context.method === 'password' && context.password === 'pw' ? context.accept() : context.reject(['password'])));
    client.on('session', (accept) => {
      accept().on('exec', (acceptExec, _reject, info) => {
        const channel = acceptExec();
        if (behaviour === 'reset') {
          // What a dropped link looks like to the client: the TCP connection is reset mid-command.
          (client as unknown as { _sock: import('node:net').Socket })._sock.resetAndDestroy();
        } else if (behaviour === 'signal') {
          channel.exit('KILL', false, '');
          channel.end();
        } else {
          channel.write(`ran: ${info.command}\n`);
          channel.exit(0);
          channel.end();
        }
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  for (const client of serverSide) client.end();
  await new Promise((resolve) => server.close(resolve));
});

const connect = async () => {
  const { Secret } = await import('../../src/secret.ts');
  return SshTransport.connect({ user: 'root', host: '127.0.0.1', port, password: new Secret('pw'), retries: 0 });
};

describe('SSH transport error paths', () => {
  it('runs a command and returns its output byte for byte', async () => {
    behaviour = 'ok';
    const transport = await connect();
    const result = await transport.exec(['echo', "it's"]);
    assert.deepEqual(result, { code: 0, stdout: `ran: echo 'it'\\''s'\n`, stderr: '' });
    await transport.close();
  });

  it('turns a connection reset during a command into a ConnectionError for this host only', async () => {
    behaviour = 'reset';
    const transport = await connect();
    await assert.rejects(transport.exec(['apt-get', 'install', '-y', 'mosquitto']), (error: unknown) => {
      assert.ok(error instanceof ConnectionError);
      assert.match((error as Error).message, /connection lost while running apt-get/);
      return true;
    });
    await assert.rejects(transport.exec(['true']), ConnectionError, 'later commands fail at once');
    await transport.close();
  });

  it('reports a command killed by a signal as a failed command, not a lost connection', async () => {
    behaviour = 'signal';
    const transport = await connect();
    const result = await transport.exec(['mosquitto']);
    assert.equal(result.code, 128);
    assert.match(result.stderr, /mosquitto ended by signal SIGKILL/);
    await transport.close();
  });
});
