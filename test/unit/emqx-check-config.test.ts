import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkConfigCommand } from '../../src/brokers/emqx/config-steps.ts';

/**
 * `emqx check_config` (bin/emqx, v5.8.6) runs hocon's check_schema over base.hocon (5.8.4+),
 * cluster.hocon and emqx.conf together; v5.7.2 over cluster.hocon and emqx.conf. The command must
 * say which file EMQX's error names, since only emqx.conf is ours. A stub `emqx` stands in for EMQX.
 */
function runWith(stubOutput: string, stubCode: number, shell: 'dash' | 'bash') {
  const directory = mkdtempSync(join(tmpdir(), 'emqx-check-'));
  writeFileSync(join(directory, 'emqx'), `#!/bin/sh\n[ "$1" = check_config ] || exit 9\ncat <<'OUT'\n${stubOutput}\nOUT\nexit ${stubCode}\n`);
  chmodSync(join(directory, 'emqx'), 0o755);
  const [program, ...args] = checkConfigCommand.argv;
  assert.equal(program, 'sh');
  return spawnSync(shell, args, { env: { PATH: `${directory}:${process.env.PATH}` }, encoding: 'utf8' });
}

describe('emqx check_config', () => {
  it('names cluster.hocon when EMQX blames it, as a file mqtt-provision never writes (dash)', () => {
    const result = runWith('{parse_error,#{file => "/var/lib/emqx/configs/cluster.hocon",line => 3,reason => "syntax error"}}', 1, 'dash');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /emqx check_config failed: the error names \/var\/lib\/emqx\/configs\/cluster\.hocon \(EMQX's own, not written by mqtt-provision\)/);
    assert.match(result.stderr, /syntax error/, "EMQX's own text follows");
  });

  it('names base.hocon, or ours, or says that no file was named (bash)', () => {
    assert.match(runWith('error in /etc/emqx/base.hocon line 1', 1, 'bash').stderr, /names \/etc\/emqx\/base\.hocon \(EMQX's own/);
    assert.match(runWith('bad value in /etc/emqx/emqx.conf', 1, 'bash').stderr, /names \/etc\/emqx\/emqx\.conf \(written by mqtt-provision\)/);
    assert.match(runWith('{validation_error, listeners.tcp.default.bind}', 1, 'bash').stderr, /names no file; it checks \/etc\/emqx\/base\.hocon, \/var\/lib\/emqx\/configs\/cluster\.hocon and \/etc\/emqx\/emqx\.conf together/);
  });

  it('passes quietly when EMQX accepts the config', () => {
    const result = runWith('ok', 0, 'dash');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
  });
});
