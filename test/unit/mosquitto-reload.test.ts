import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkedReloadStep } from '../../src/brokers/mosquitto/reload.ts';

// Issue 21 item 3: `systemctl reload` succeeds whatever Mosquitto thinks of the files it re-reads.
// The checked reload runs here on a real shell against stand-ins for systemctl and journalctl
// that behave like the lab host's: each SIGHUP appends Mosquitto's lines to a journal file.

const journalctl = `#!/bin/sh
# -n 1 --show-cursor: the last line and its number as cursor; --after-cursor N: the lines after N.
log="$STATE/journal"; after=""; last=""
while [ $# -gt 0 ]; do case "$1" in --after-cursor) after=$2; shift ;; -n) last=1; shift ;; esac; shift; done
if [ -n "$last" ]; then n=$(wc -l < "$log"); tail -n 1 "$log"; [ "$n" -gt 0 ] && echo "-- cursor: $n"; exit 0; fi
if [ -n "$after" ]; then tail -n +$((after + 1)) "$log"; else cat "$log"; fi
`;
const systemctl = `#!/bin/sh
case "$1" in
  reload)
    echo x >> "$STATE/signals"
    # A signal that lands while the broker is still busy with the previous reload is lost.
    if [ -e "$STATE/lose-next" ]; then rm "$STATE/lose-next"; exit 0; fi
    echo "Reloading mosquitto.service - Mosquitto MQTT Broker..." >> "$STATE/journal"
    echo "1795982874: Reloading config." >> "$STATE/journal"
    if [ -e "$STATE/reject" ]; then
      echo '1795982874: Error: Invalid ACL topic "sensors/#/x" in acl_file "/etc/mosquitto/acl".' >> "$STATE/journal"
      echo '1795982874: Error opening acl file "/etc/mosquitto/acl".' >> "$STATE/journal"
    fi ;;
  is-active) exit 0 ;;
esac
`;

function runReload(setup: { reject?: boolean; loseSecond?: boolean; history?: string }) {
  const state = mkdtempSync(join(tmpdir(), 'mp-reload-'));
  const bin = join(state, 'bin');
  spawnSync('mkdir', [bin]);
  writeFileSync(join(bin, 'journalctl'), journalctl);
  writeFileSync(join(bin, 'systemctl'), systemctl);
  chmodSync(join(bin, 'journalctl'), 0o755);
  chmodSync(join(bin, 'systemctl'), 0o755);
  writeFileSync(join(state, 'journal'), setup.history ?? '1795982800: mosquitto version 2.0.11 running\n');
  writeFileSync(join(state, 'signals'), '');
  if (setup.reject) writeFileSync(join(state, 'reject'), '');
  const command = checkedReloadStep('mosquitto', 'acl changed').commands[0]!;
  // The first signal is handled; the second is lost once when asked.
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, STATE: state };
  const wrapped = setup.loseSecond
    ? `systemctl() { if [ "$1" = reload ] && [ "$(wc -l < "$STATE/signals")" -eq 1 ] && [ ! -e "$STATE/lost" ]; then touch "$STATE/lost" "$STATE/lose-next"; fi; command systemctl "$@"; }\n${command.stdin}`
    : command.stdin!;
  const result = spawnSync(command.argv[0]!, command.argv.slice(1), { input: wrapped, env, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stderr: result.stderr, signals: readFileSync(join(state, 'signals'), 'utf8').split('\n').filter(Boolean).length, lost: existsSync(join(state, 'lost')) };
}

describe('checked Mosquitto reload', () => {
  it('succeeds when the broker logged its reload without an error', () => {
    const run = runReload({});
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.signals, 2);
  });

  it("fails with the broker's own error when it refused the new files", () => {
    const run = runReload({ reject: true });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /mosquitto rejected the new files on reload:\n.*Error: Invalid ACL topic "sensors\/#\/x"/);
  });

  it('ignores errors logged before this reload', () => {
    const run = runReload({ history: '1795982800: Error: Invalid ACL topic "old" in acl_file "/etc/mosquitto/acl".\n' });
    assert.equal(run.code, 0, run.stderr);
  });

  it('re-sends the second signal when the broker lost it, instead of failing or hanging', () => {
    const run = runReload({ loseSecond: true });
    assert.equal(run.lost, true, 'the second signal was lost');
    assert.equal(run.code, 0, run.stderr);
    assert.ok(run.signals >= 3, `${run.signals} signals`);
  });
});
