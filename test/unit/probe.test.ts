import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gatherFacts } from '../../src/facts/gather.ts';
import type { FactQuery, HostFacts } from '../../src/facts/host-facts.ts';
import { parseProbeOutput } from '../../src/facts/parse-probe.ts';
import { LocalTransport } from '../../src/transport/local.ts';
import { noStart } from './support/no-start.ts';

/** The probe run on this machine with the fake commands in `bin` first on PATH. */
async function gatherWithFirstOnPath(bin: string, query: FactQuery): Promise<HostFacts> {
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  try {
    return await gatherFacts(new LocalTransport(), query);
  } finally {
    process.env.PATH = path;
  }
}

const query = { packages: ['mosquitto'], files: ['/etc/mosquitto/mosquitto.conf'], directories: ['/var/lib/mosquitto'], services: ['mosquitto'] };

describe('fact probe', () => {
  it('parses every kind of fact line', () => {
    const content = Buffer.from('listener 1883\n').toString('base64');
    const facts = parseProbeOutput(
      [
        'os\tid\trocky',
        'os\tid_like\trhel centos fedora',
        'os\tversion_id\t9.3',
        'cmd\tdnf',
        'pkg\tmosquitto\t2.0.18-1.el9',
        `file\t/etc/mosquitto/mosquitto.conf\tabc\t644\troot\troot\t${content}`,
        'dir\t/var/lib/mosquitto\t750\tmosquitto\tmosquitto',
        'svc\tmosquitto\tactive\tenabled',
        'firewalld\trunning\t1883/tcp\t1883/tcp 8083/tcp',
        'epel\t1',
      ].join('\n'),
      query,
    );
    assert.deepEqual(facts.os.idLike, ['rhel', 'centos', 'fedora']);
    assert.equal(facts.packages.mosquitto, '2.0.18-1.el9');
    assert.deepEqual(facts.files['/etc/mosquitto/mosquitto.conf'], { sha256: 'abc', mode: '0644', owner: 'root', group: 'root', content: 'listener 1883\n' });
    assert.deepEqual(facts.directories['/var/lib/mosquitto'], { mode: '0750', owner: 'mosquitto', group: 'mosquitto' });
    assert.deepEqual(facts.services.mosquitto, { active: 'active', enabled: 'enabled' });
    assert.deepEqual(facts.firewalld, {
      running: true,
      runtimePorts: ['1883/tcp'],
      permanentPorts: ['1883/tcp', '8083/tcp'],
      runtimeRichRules: '',
      permanentRichRules: '',
      runtimeServices: [],
      permanentServices: [],
    });
    assert.equal(facts.epelEnabled, true);
  });

  it('reports what it did not find as absent', () => {
    const facts = parseProbeOutput('pkg\tmosquitto\t-\nfile\t/etc/mosquitto/mosquitto.conf\t-\ndir\t/var/lib/mosquitto\t-\n', query);
    assert.equal(facts.packages.mosquitto, null);
    assert.equal(facts.files['/etc/mosquitto/mosquitto.conf'], null);
    assert.equal(facts.directories['/var/lib/mosquitto'], null);
    assert.equal(facts.firewalld, null);
  });

  it('reads a package left in dpkg\'s rc state (config files only) and a directory\'s entry count', () => {
    const facts = parseProbeOutput('pkg\tmosquitto\t-\npkgconf\tmosquitto\ndir\t/var/lib/mosquitto\t750\tmosquitto\tmosquitto\t0\n', query);
    assert.equal(facts.packages.mosquitto, null);
    assert.deepEqual(facts.packagesConfigOnly, ['mosquitto']);
    assert.deepEqual(facts.directories['/var/lib/mosquitto'], { mode: '0750', owner: 'mosquitto', group: 'mosquitto', entries: 0 });
    assert.equal(parseProbeOutput('pkg\tmosquitto\t2.0.11\n', query).packagesConfigOnly, undefined);
  });

  it('runs on a real shell and reads real files in one exec', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mp-probe-'));
    const file = join(directory, 'a b.conf');
    writeFileSync(file, 'hello\n', { mode: 0o640 });
    let calls = 0;
    const local = new LocalTransport();
    const counting = { label: 'local', start: noStart, close: async () => {}, exec: (argv: readonly string[], options?: { stdin?: string | Buffer }) => (calls++, local.exec(argv, options)) };
    const facts = await gatherFacts(counting, { packages: ['coreutils'], files: [file, join(directory, 'missing')], directories: [directory], services: [] });
    assert.equal(calls, 1);
    assert.equal(facts.files[file]!.content, 'hello\n');
    assert.equal(facts.files[file]!.mode, '0640');
    assert.equal(facts.files[file]!.sha256, execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]);
    assert.equal(facts.files[join(directory, 'missing')], null);
    assert.equal(facts.directories[directory]!.entries, 1, 'the entry count removal decides on');
    assert.ok(facts.os.id.length > 0);
    assert.notEqual(facts.packages.coreutils, null);
  });

  // Fake firewall-cmd, ufw and systemctl first on PATH, printing what firewalld 1.3.3 and ufw 0.36.2
  // printed on the lab hosts (notes-24-edge.md): the real probe.sh reads them.
  it('reads firewalld ports, services and rich rules of both views, and tells ufw rules restricted by source from open ones', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'mp-probe-bin-'));
    const script = (name: string, body: string) => writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    const zone = (ports: string, rules: string[]) =>
      ['public (active)', '  target: default', '  interfaces: eth0', '  services: dhcpv6-client mqtt ssh', `  ports: ${ports}`, '  forward-ports: ', '  source-ports: 9999/tcp', '  icmp-blocks: ', '  rich rules: ', ...rules.map((rule) => `\t${rule}`)].join('\n');
    const rule = (address: string, port: number) => `rule family="ipv4" source address="${address}" port port="${port}" protocol="tcp" accept`;
    script('systemctl', 'exit 0');
    script('busctl', 'exit 1'); // a systemd before 240 (no --json): firewall-cmd answers
    script('firewall-cmd', `if [ "$1" = --permanent ]; then cat <<'EOF'\n${zone('8883/tcp', [rule('10.0.0.0/8', 1883), rule('172.17.0.1', 1883)])}\nEOF\nelse cat <<'EOF'\n${zone('8883/tcp 1883/tcp', [rule('10.0.0.0/8', 1883)])}\nEOF\nfi`);
    const ufwStatus = [
      'Status: active',
      '',
      'To                         Action      From',
      '--                         ------      ----',
      '22/tcp                     ALLOW       Anywhere',
      '1883/tcp                   ALLOW       10.0.0.0/8',
      '8883/tcp                   ALLOW       Anywhere',
      '22/tcp (v6)                ALLOW       Anywhere (v6)',
      '8883/tcp (v6)              ALLOW       Anywhere (v6)',
    ].join('\n');
    script('ufw', `cat <<'EOF'\n${ufwStatus}\nEOF`);
    script('iptables', 'exit 0'); // ufw's chains are loaded: ufw itself is asked
    const facts = await gatherWithFirstOnPath(bin, { packages: [], files: [], directories: [], services: [] });
    assert.deepEqual(facts.firewalld, {
      running: true,
      runtimePorts: ['8883/tcp', '1883/tcp'],
      permanentPorts: ['8883/tcp'],
      runtimeRichRules: `${rule('10.0.0.0/8', 1883)}\n`,
      permanentRichRules: `${rule('10.0.0.0/8', 1883)}\n${rule('172.17.0.1', 1883)}\n`,
      runtimeServices: ['dhcpv6-client', 'mqtt', 'ssh'],
      permanentServices: ['dhcpv6-client', 'mqtt', 'ssh'],
    });
    assert.deepEqual(facts.ufw?.allowedPorts, ['22/tcp', '8883/tcp'], '1883/tcp ALLOW 10.0.0.0/8 is not open to everyone');
    assert.equal(facts.ufw?.status, `${ufwStatus}\n`);
  });

  it('takes an inactive ufw from iptables (no ufw-user-input chain) without starting ufw', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'mp-probe-bin-'));
    const called = join(bin, 'ufw-was-called');
    writeFileSync(join(bin, 'ufw'), `#!/bin/sh\ntouch '${called}'\necho 'Status: active'\n`, { mode: 0o755 });
    writeFileSync(join(bin, 'iptables'), '#!/bin/sh\n[ "$3" = ufw-user-input ] && exit 1\nexit 0\n', { mode: 0o755 });
    const facts = await gatherWithFirstOnPath(bin, { packages: [], files: [], directories: [], services: [] });
    assert.deepEqual(facts.ufw, { active: false, allowedPorts: [] });
    assert.equal(existsSync(called), false, 'ufw (Python) was not started');
  });

  it('reads every service and its open-files limit from one systemctl show, in argument order', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'mp-probe-bin-'));
    const calls = join(bin, 'calls');
    // systemd's own block layout: properties in its order, a blank line between units; a unit without a unit file has an empty UnitFileState.
    writeFileSync(
      join(bin, 'systemctl'),
      `#!/bin/sh\necho "$*" >> '${calls}'\n[ "$1" = show ] || exit 3\nprintf 'MainPID=${process.pid}\\nActiveState=active\\nUnitFileState=enabled\\n\\nMainPID=0\\nActiveState=inactive\\nUnitFileState=\\n\\nMainPID=${process.pid}\\nActiveState=active\\nUnitFileState=enabled\\n'\n`,
      { mode: 0o755 },
    );
    const facts = await gatherWithFirstOnPath(bin, { packages: [], files: [], directories: [], services: ['mosquitto', 'gone'], openFiles: ['mosquitto'] });
    assert.deepEqual(facts.services, { mosquitto: { active: 'active', enabled: 'enabled' }, gone: { active: 'inactive', enabled: 'not-found' } });
    const limits = readFileSync(`/proc/${process.pid}/limits`, 'utf8').match(/^Max open files\s+(\S+)\s+(\S+)/m)!;
    assert.deepEqual(facts.openFiles, { mosquitto: { soft: Number(limits[1]), hard: Number(limits[2]) } }, 'the limit in force of the unit\'s MainPID');
    assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), ['show -p ActiveState,UnitFileState,MainPID -- mosquitto gone mosquitto'], 'one systemctl for all units');
  });

  it('reads kernel settings from /proc/sys, and hashes a file sent whole from its bytes', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mp-probe-'));
    const file = join(directory, 'bytes');
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]);
    writeFileSync(file, bytes);
    const facts = await gatherFacts(new LocalTransport(), { packages: [], files: [file], directories: [], services: [], sysctl: ['kernel.ostype', 'no.such.key'] });
    assert.deepEqual(facts.sysctl, { 'kernel.ostype': { value: readFileSync('/proc/sys/kernel/ostype', 'utf8').trim(), writable: facts.sysctl!['kernel.ostype']!.writable }, 'no.such.key': null });
    assert.equal(facts.files[file]!.sha256, createHash('sha256').update(bytes).digest('hex'), 'the hash of the bytes on disk, not of their UTF-8 reading');
  });

  // What busctl --json=short printed on the rhel-firewalld lab host (firewalld 1.3, systemd 252)
  // with a rich rule added at runtime and 8883/tcp opened permanently.
  it('reads firewalld over D-Bus with busctl, asking firewall-cmd nothing', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'mp-probe-bin-'));
    const called = join(bin, 'firewall-cmd-was-called');
    const rule = 'rule family=\\"ipv4\\" source address=\\"10.0.0.0/8\\" port port=\\"1883\\" protocol=\\"tcp\\" accept';
    const runtime = `{"type":"a{sv}","data":[{"short":{"type":"s","data":"Public"},"target":{"type":"s","data":"default"},"services":{"type":"as","data":["ssh","dhcpv6-client"]},"rules_str":{"type":"as","data":["${rule}"]}}]}`;
    const permanent = '{"type":"a{sv}","data":[{"short":{"type":"s","data":"Public"},"services":{"type":"as","data":["ssh","dhcpv6-client"]},"ports":{"type":"a(ss)","data":[["8883","tcp"]]}}]}';
    writeFileSync(join(bin, 'systemctl'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    writeFileSync(join(bin, 'firewall-cmd'), `#!/bin/sh\ntouch '${called}'\n`, { mode: 0o755 });
    writeFileSync(
      join(bin, 'busctl'),
      [
        '#!/bin/sh',
        'case "$6" in',
        `  getDefaultZone) echo '{"type":"s","data":["public"]}' ;;`,
        `  getZoneSettings2) [ "$8" = public ] && echo '${runtime}' ;;`,
        `  getZoneByName) echo '{"type":"o","data":["/org/fedoraproject/FirewallD1/config/zone/6"]}' ;;`,
        `  getSettings2) [ "$4" = /org/fedoraproject/FirewallD1/config/zone/6 ] && echo '${permanent}' ;;`,
        '  *) exit 1 ;;',
        'esac',
      ].join('\n'),
      { mode: 0o755 },
    );
    const facts = await gatherWithFirstOnPath(bin, { packages: [], files: [], directories: [], services: [] });
    assert.deepEqual(facts.firewalld, {
      running: true,
      runtimePorts: [],
      permanentPorts: ['8883/tcp'],
      runtimeRichRules: 'rule family="ipv4" source address="10.0.0.0/8" port port="1883" protocol="tcp" accept\n',
      permanentRichRules: '',
      runtimeServices: ['ssh', 'dhcpv6-client'],
      permanentServices: ['ssh', 'dhcpv6-client'],
    });
    assert.equal(existsSync(called), false, 'firewall-cmd (Python) was not started');
  });
});
