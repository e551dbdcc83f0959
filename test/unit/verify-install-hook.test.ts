import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InstallTarget } from '../../src/engine/install-target.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { brokerUrls, installVerifyOptions } from '../../src/verify/install-hook.ts';
import { noStart } from './support/no-start.ts';

function target(ports: Record<number, number> = {}, address = '127.0.0.1'): InstallTarget & { executed: string[][]; closed: number } {
  const state = { executed: [] as string[][], closed: 0 };
  const transport: Transport = {
    label: 'root@lab',
    exec: async (argv) => {
      state.executed.push([...argv]);
      return { code: 0, stdout: '', stderr: '' };
    },
    start: noStart, close: async () => {
      state.closed++;
    },
  };
  return Object.assign(state, { label: 'root@lab', address, ports, connect: async () => transport });
}

const admins = [{ name: 'admin', password: 'x y' }, { name: 'second', password: 'other' }];

describe('verify after install', () => {
  it('maps broker ports to reachable ports, identity when not mapped', () => {
    const settings = resolveSettings({ broker: 'mosquitto', listeners: { mqtt: 1883, websocket: 8083 }, admins });
    assert.deepEqual(brokerUrls(target({ 1883: 41883 }), settings), { mqttUrl: 'mqtt://127.0.0.1:41883', wsUrl: 'ws://127.0.0.1:8083/mqtt' });
    assert.deepEqual(brokerUrls(target({}, '::1'), settings), { mqttUrl: 'mqtt://[::1]:1883', wsUrl: 'ws://[::1]:8083/mqtt' });
  });

  it('checks over WebSocket when the broker serves no plain MQTT listener', () => {
    const settings = resolveSettings({ broker: 'mosquitto', listeners: { websocket: 8083 }, admins });
    assert.deepEqual(brokerUrls(target({ 8083: 2303 }), settings), { mqttUrl: 'ws://127.0.0.1:2303/mqtt' });
  });

  it('logs in as the first admin and restarts Mosquitto through the target when persistence is on', async () => {
    const settings = resolveSettings({ broker: 'mosquitto', listeners: { mqtt: 1883 }, admins });
    const host = target({ 1883: 2302 });
    const options = installVerifyOptions(host, settings, { messages: 100 });
    assert.equal(options.mqttUrl, 'mqtt://127.0.0.1:2302');
    assert.equal(options.username, 'admin');
    assert.equal(options.password?.reveal(), 'x y');
    assert.equal(options.messages, 100);
    assert.ok(options.restartBroker);
    await options.restartBroker();
    assert.deepEqual(host.executed, [['systemctl', 'restart', 'mosquitto']]);
    assert.equal(host.closed, 1);
  });

  it('does not restart a broker that a no-op converge left alone, and says why in the report', () => {
    const settings = resolveSettings({ broker: 'mosquitto', admins });
    assert.equal(typeof installVerifyOptions(target(), settings).restartBroker, 'function');
    const noOp = installVerifyOptions(target(), settings, { mayRestart: false });
    assert.equal(noOp.restartBroker, undefined);
    assert.match(noOp.restartSkipReason!, /nothing changed in this run/);
  });

  it('does not restart when persistence is off or the broker is EMQX', () => {
    const off = resolveSettings({ broker: 'mosquitto', persistence: { enabled: false }, admins });
    assert.equal(installVerifyOptions(target(), off).restartBroker, undefined);
    const emqx = resolveSettings({ broker: 'emqx', listeners: { mqtt: 1883 }, admins: [{ name: 'admin', password: 'dashboard-Pass-1' }] });
    assert.equal(installVerifyOptions(target(), emqx).restartBroker, undefined);
  });

  it('reports a failing restart with the command and its error', async () => {
    const settings = resolveSettings({ broker: 'mosquitto', admins });
    const host = target();
    host.connect = async () => ({
      label: 'root@lab',
      exec: async () => ({ code: 5, stdout: '', stderr: 'Unit mosquitto.service not found.' }),
      start: noStart, close: async () => {},
    });
    await assert.rejects(installVerifyOptions(host, settings).restartBroker!(), /systemctl restart mosquitto on root@lab exited 5: Unit mosquitto.service not found/);
  });
});
