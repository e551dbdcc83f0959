import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runInstall } from '../../src/cli/install-command.ts';
import { exitCode } from '../../src/cli/install-report.ts';
import { parseInstallOptions } from '../../src/cli/install-options.ts';
import type { HostReport } from '../../src/engine/report.ts';

const report = (host: string, status: HostReport['status']): HostReport => ({ host, status, dryRun: true, steps: [], durationMs: 5 });

describe('--check (drift check for CI)', () => {
  it('is a dry run', () => {
    const options = parseInstallOptions(['--host', 'h', '--check']);
    assert.equal(options.check, true);
    assert.equal(options.dryRun, true);
  });

  it('exits 0 in sync, 3 on drift, 1 when a host could not be checked', () => {
    const check = { check: true };
    assert.equal(exitCode(check, [report('a', 'ok'), report('b', 'ok')], true), 0);
    assert.equal(exitCode(check, [report('a', 'ok'), report('b', 'changed')], true), 3);
    assert.equal(exitCode(check, [report('a', 'changed'), report('b', 'failed')], true), 1);
  });

  it('leaves the exit codes of a plain run alone: changes are success', () => {
    assert.equal(exitCode({ check: false }, [report('a', 'changed')], true), 0);
    assert.equal(exitCode({ check: false }, [report('a', 'changed')], false), 1);
  });

  it('refuses --render-to, which contacts no host to compare with (exit 2)', async () => {
    const errors: string[] = [];
    let connections = 0;
    const code = await runInstall('mosquitto', ['--check', '--render-to', '/tmp/x'], {
      env: {},
      print: () => {},
      printError: (text) => errors.push(text),
      connect: async () => {
        connections++;
        throw new Error('no host');
      },
    });
    assert.equal(code, 2);
    assert.match(errors.join('\n'), /--check: compares hosts with the settings/);
    assert.equal(connections, 0);
  });
});
