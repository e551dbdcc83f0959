import { createHash } from 'node:crypto';
import type { FactQuery, HostFacts } from './host-facts.ts';

/** Turns the probe's tab-separated lines into HostFacts. Pure, so fixtures can feed it text. */
export function parseProbeOutput(output: string, query: FactQuery): HostFacts {
  const facts: HostFacts = {
    os: { id: '', idLike: [], versionId: '', prettyName: '' },
    commands: [],
    packages: Object.fromEntries(query.packages.map((name) => [name, null])),
    files: Object.fromEntries(query.files.map((path) => [path, null])),
    directories: Object.fromEntries(query.directories.map((path) => [path, null])),
    services: Object.fromEntries(query.services.map((name) => [name, { active: 'unknown', enabled: 'not-found' }])),
    firewalld: null,
    ufw: null,
    epelEnabled: false,
  };
  for (const line of output.split('\n')) {
    const [kind, ...fields] = line.split('\t');
    switch (kind) {
      case 'os':
        readOsField(facts, fields[0] ?? '', fields[1] ?? '');
        break;
      case 'cmd':
        facts.commands.push(fields[0] ?? '');
        break;
      case 'pkg':
        facts.packages[fields[0] ?? ''] = fields[1] === '-' || !fields[1] ? null : fields[1];
        break;
      case 'file': {
        const [path = '', sha256 = '-', mode = '', owner = '', group = '', content = '-'] = fields;
        // `+`: the file came whole, and its hash is taken here from the bytes (one exec less per file on the host).
        const bytes = content === '-' ? null : Buffer.from(content, 'base64');
        const hash = sha256 === '+' && bytes ? createHash('sha256').update(bytes).digest('hex') : sha256;
        facts.files[path] = sha256 === '-' ? null : { sha256: hash, mode: mode.padStart(4, '0'), owner, group, content: bytes ? bytes.toString('utf8') : null };
        break;
      }
      case 'dir': {
        const [path = '', mode = '-', owner = '', group = '', entries] = fields;
        const count = entries === undefined ? Number.NaN : Number.parseInt(entries.trim(), 10);
        facts.directories[path] = mode === '-' ? null : { mode: mode.padStart(4, '0'), owner, group, ...(Number.isInteger(count) ? { entries: count } : {}) };
        break;
      }
      case 'sysctl': {
        const [key = '', mode = '-', value = ''] = fields;
        (facts.sysctl ??= {})[key] = mode === '-' ? null : { value: value.trim().replace(/\s+/g, ' '), writable: mode === 'w' };
        break;
      }
      case 'nofile': {
        const [name = '', soft = '-', hard = ''] = fields;
        const limit = (text: string) => (text === 'unlimited' ? Infinity : Number(text));
        (facts.openFiles ??= {})[name] = soft === '-' ? null : { soft: limit(soft), hard: limit(hard) };
        break;
      }
      case 'pkgconf':
        (facts.packagesConfigOnly ??= []).push(fields[0] ?? '');
        break;
      case 'svc':
        facts.services[fields[0] ?? ''] = { active: fields[1] ?? 'unknown', enabled: fields[2] ?? 'not-found' };
        break;
      case 'firewalld':
        facts.firewalld = {
          running: fields[0] === 'running',
          runtimePorts: words(fields[1]),
          permanentPorts: words(fields[2]),
          runtimeRichRules: '',
          permanentRichRules: '',
          runtimeServices: words(fields[3]),
          permanentServices: words(fields[4]),
        };
        break;
      case 'firewalldjson':
        readFirewalldSettings(facts, fields[0] === 'permanent' ? 'permanent' : 'runtime', fields.slice(1).join('\t'));
        break;
      case 'firewalldrule':
        // One rich rule per line, after the `firewalld` line; its text is kept as listed (removal matches it).
        if (facts.firewalld) {
          const key = fields[0] === 'permanent' ? 'permanentRichRules' : 'runtimeRichRules';
          facts.firewalld[key] = `${facts.firewalld[key] ?? ''}${fields.slice(1).join('\t')}\n`;
        }
        break;
      case 'ufw':
        facts.ufw = { active: fields[0] === 'active', allowedPorts: words(fields[1]), ...(fields[0] === 'active' ? { status: '' } : {}) };
        break;
      case 'ufwline':
        if (facts.ufw?.status !== undefined) facts.ufw.status += `${fields.join('\t')}\n`;
        break;
      case 'epel':
        facts.epelConfigured = true;
        facts.epelEnabled = fields[0] !== '0';
        break;
      case 'arch':
        if (fields[0]) facts.arch = fields[0];
        break;
      case 'host':
        facts.hostNames = [...(facts.hostNames ?? []), ...words(fields[1])];
        break;
      default:
        // A broker's own section: its role parses it (FactQuery.sections), else it is skipped.
        if (kind && Object.hasOwn(query.sections ?? {}, kind)) query.sections![kind]!(facts, fields);
        break;
    }
  }
  return facts;
}

/**
 * One view of the default zone as firewalld's D-Bus API gives it (getZoneSettings2 / config
 * getSettings2, through `busctl --json=short`): `{"type":"a{sv}","data":[{"ports":{"type":"a(ss)",
 * "data":[["1883","tcp"]]},"services":…,"rules_str":…}]}`. A key is absent when its list is empty.
 */
function readFirewalldSettings(facts: HostFacts, view: 'runtime' | 'permanent', json: string): void {
  let settings: Record<string, { data?: unknown } | undefined>;
  try {
    settings = (JSON.parse(json) as { data: [Record<string, { data?: unknown }>] }).data[0];
  } catch {
    throw new Error(`the fact probe's firewalld ${view} settings are not busctl JSON: ${json.slice(0, 200)}`);
  }
  const list = (key: string): unknown[] => (Array.isArray(settings[key]?.data) ? (settings[key]!.data as unknown[]) : []);
  facts.firewalld ??= { running: true, runtimePorts: [], permanentPorts: [], runtimeRichRules: '', permanentRichRules: '', runtimeServices: [], permanentServices: [] };
  const ports = list('ports').map((entry) => (entry as [string, string]).join('/'));
  const services = list('services').map(String);
  const rules = list('rules_str').map((rule) => `${String(rule)}\n`).join('');
  if (view === 'runtime') Object.assign(facts.firewalld, { runtimePorts: ports, runtimeServices: services, runtimeRichRules: rules });
  else Object.assign(facts.firewalld, { permanentPorts: ports, permanentServices: services, permanentRichRules: rules });
}

function readOsField(facts: HostFacts, key: string, value: string): void {
  if (key === 'id') facts.os.id = value;
  else if (key === 'id_like') facts.os.idLike = words(value);
  else if (key === 'version_id') facts.os.versionId = value;
  else if (key === 'pretty_name') facts.os.prettyName = value;
}

function words(text: string | undefined): string[] {
  return (text ?? '').split(/\s+/).filter(Boolean);
}
