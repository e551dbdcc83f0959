import { brokerPortUniverse } from './firewall.ts';
import { parseSourceRange, ufwSpelling, type SourceRange } from '../settings/source-ranges.ts';
import type { Command } from './step.ts';

/**
 * Listeners restricted by source (issue 24, item 3): per served port either "anywhere" (the plain
 * port, as firewall.ts opens it today) or only the listed ranges. Pure builders and parsers for
 * firewalld rich rules and ufw `from` rules; phase 2 wires them into firewallStep.
 *
 * Observed on the lab hosts (notes-24-edge.md): a plain open port admits everyone whatever rich
 * rules say, so a restricted port must not stay open plainly; ranges are added before anything is
 * removed, so a port going from open to restricted never refuses an allowed client in between.
 */
export interface ListenerAccess {
  port: number;
  /** null: anyone may connect (the plain port); otherwise only these ranges. */
  allowFrom: SourceRange[] | null;
}

/** One source-restricted accept rule, as both firewalls can express it. */
export interface SourceRule {
  port: number;
  source: SourceRange;
}

const ruleKey = (rule: SourceRule) => `${rule.port} ${rule.source.cidr}`;

function wantedRules(wanted: ListenerAccess[]): SourceRule[] {
  return wanted.flatMap((access) => (access.allowFrom ?? []).map((source) => ({ port: access.port, source })));
}

/** The ports a run may close or restrict: the brokers' conventional ones and whatever is served now. */
function managedPorts(wanted: ListenerAccess[]): Set<number> {
  return new Set([...brokerPortUniverse, ...wanted.map((access) => access.port)]);
}

// ---- firewalld -------------------------------------------------------------------------------

/** The rich rule in exactly the spelling `firewall-cmd --list-rich-rules` prints it back (firewalld 1.3). */
export function firewalldRichRule(rule: SourceRule): string {
  return `rule family="${rule.source.family}" source address="${rule.source.cidr}" port port="${rule.port}" protocol="tcp" accept`;
}

/**
 * The rules of `firewall-cmd [--permanent] --list-rich-rules` (one per line) that have our shape:
 * family, source address, one tcp port, accept. Anything else (logging, other actions, services)
 * is someone else's and is never returned, so never removed. `text` keeps the listed spelling,
 * which --remove-rich-rule matches.
 */
export function parseRichRules(listing: string): Array<SourceRule & { text: string }> {
  const rules: Array<SourceRule & { text: string }> = [];
  const shape = /^rule family="?(ipv4|ipv6)"? source address="?([^"\s]+)"? port port="?(\d+)"? protocol="?tcp"? accept$/;
  for (const line of listing.split('\n').map((item) => item.trim()).filter(Boolean)) {
    const match = shape.exec(line);
    if (!match) continue;
    const source = parseSourceRange(match[2]!);
    // A source typed with host bits (172.17.0.5/16) by hand is not ours: our rules are canonical.
    if ('error' in source || source.family !== match[1]) continue;
    rules.push({ port: Number(match[3]), source, text: line });
  }
  return rules;
}

export interface FirewalldView {
  /** `--list-ports` words, e.g. `1883/tcp`. */
  ports: string[];
  /** `--list-rich-rules` output. */
  richRules: string;
}

/**
 * Commands that make one view (runtime or permanent, chosen by `flag`) admit exactly `wanted`.
 * Adds come first, removals last (see the file comment). Rich rules on managed ports that are not
 * wanted, and plain managed ports that are restricted or no longer served, are removed.
 */
export function firewalldViewCommands(view: FirewalldView, wanted: ListenerAccess[], flag: [] | ['--permanent']): Command[] {
  const managed = managedPorts(wanted);
  const plainWanted = wanted.filter((access) => access.allowFrom === null).map((access) => `${access.port}/tcp`);
  const rulesWanted = wantedRules(wanted);
  const present = parseRichRules(view.richRules).filter((rule) => managed.has(rule.port));
  const presentKeys = new Set(present.map(ruleKey));
  const wantedKeys = new Set(rulesWanted.map(ruleKey));
  const cmd = (...args: string[]): Command => ({ argv: ['firewall-cmd', '-q', ...flag, ...args] });
  return [
    ...plainWanted.filter((port) => !view.ports.includes(port)).map((port) => cmd(`--add-port=${port}`)),
    ...rulesWanted.filter((rule) => !presentKeys.has(ruleKey(rule))).map((rule) => cmd(`--add-rich-rule=${firewalldRichRule(rule)}`)),
    ...present.filter((rule) => !wantedKeys.has(ruleKey(rule))).map((rule) => cmd(`--remove-rich-rule=${rule.text}`)),
    ...view.ports
      .filter((port) => /^\d+\/tcp$/.test(port) && managed.has(Number.parseInt(port, 10)) && !plainWanted.includes(port))
      .map((port) => cmd(`--remove-port=${port}`)),
  ];
}

/** Both views: runtime (in force now) and permanent (what a firewalld restart or reboot loads). */
export function firewalldSourceCommands(runtime: FirewalldView, permanent: FirewalldView, wanted: ListenerAccess[]): Command[] {
  return [...firewalldViewCommands(runtime, wanted, []), ...firewalldViewCommands(permanent, wanted, ['--permanent'])];
}

// ---- ufw -------------------------------------------------------------------------------------

/** One rule line of `ufw status` (or `ufw status verbose`): To, Action, From. */
export interface UfwRule {
  port: number;
  proto: 'tcp' | 'udp' | 'any';
  action: string;
  /** 'any' for "Anywhere" / "Anywhere (v6)". */
  from: SourceRange | 'any';
  v6: boolean;
}

/**
 * Parses `ufw status`. Columns are separated by two spaces or more; a restricted IPv6 rule has no
 * "(v6)" marker (its source is the IPv6 range), a plain one has "(v6)" after the port. Rules on
 * interfaces, applications ("OpenSSH") or port ranges are not ours and are skipped.
 * The fact probe today keeps only `$1 ~ /^[0-9]+\/tcp$/` with ALLOW, so it reads
 * `1883/tcp ALLOW 10.0.0.0/8` as "1883 open to everyone": phase 2 must feed this parser instead.
 */
export function parseUfwStatus(status: string): UfwRule[] {
  const rules: UfwRule[] = [];
  const lines = status.split('\n');
  const header = lines.findIndex((line) => /^\s*(\[\s*\d+\]\s*)?--\s+-+\s+-+/.test(line));
  for (const raw of lines.slice(header + 1)) {
    const line = raw.replace(/^\s*\[\s*\d+\]\s*/, '').replace(/\s+#.*$/, '').trimEnd();
    const columns = line.split(/\s{2,}/).map((column) => column.trim()).filter(Boolean);
    if (columns.length !== 3) continue;
    const [to, action, fromText] = columns as [string, string, string];
    const target = /^(\d+)(?:\/(tcp|udp))?( \(v6\))?$/.exec(to);
    if (!target) continue;
    let from: SourceRange | 'any';
    if (/^Anywhere( \(v6\))?$/.test(fromText)) from = 'any';
    else {
      const parsed = parseSourceRange(fromText);
      if ('error' in parsed) continue;
      from = parsed;
    }
    const v6 = target[3] !== undefined || (from !== 'any' && from.family === 'ipv6');
    rules.push({ port: Number(target[1]), proto: (target[2] as 'tcp' | 'udp' | undefined) ?? 'any', action: action.replace(/ IN$/, ''), from, v6 });
  }
  return rules;
}

function ufwRuleArgs(rule: SourceRule): string[] {
  return ['from', ufwSpelling(rule.source), 'to', 'any', 'port', String(rule.port), 'proto', 'tcp'];
}

/**
 * Commands that make an active ufw admit exactly `wanted` on the managed ports: `ufw allow PORT/tcp`
 * for open ones (ufw adds the v4 and v6 rule at once), `ufw allow from RANGE to any port PORT proto
 * tcp` for restricted ones; adds first, removals last. Deleting a plain rule deletes both families.
 */
export function ufwSourceCommands(status: string, wanted: ListenerAccess[]): Command[] {
  const managed = managedPorts(wanted);
  const present = parseUfwStatus(status).filter((rule) => rule.action === 'ALLOW' && rule.proto === 'tcp' && managed.has(rule.port));
  const plainPresent = new Set(present.filter((rule) => rule.from === 'any').map((rule) => rule.port));
  const rulesPresent = present.filter((rule): rule is UfwRule & { from: SourceRange } => rule.from !== 'any').map((rule) => ({ port: rule.port, source: rule.from }));
  const plainWanted = wanted.filter((access) => access.allowFrom === null).map((access) => access.port);
  const rulesWanted = wantedRules(wanted);
  const presentKeys = new Set(rulesPresent.map(ruleKey));
  const wantedKeys = new Set(rulesWanted.map(ruleKey));
  return [
    ...plainWanted.filter((port) => !plainPresent.has(port)).map((port) => ({ argv: ['ufw', 'allow', `${port}/tcp`] })),
    ...rulesWanted.filter((rule) => !presentKeys.has(ruleKey(rule))).map((rule) => ({ argv: ['ufw', 'allow', ...ufwRuleArgs(rule)] })),
    ...rulesPresent.filter((rule) => !wantedKeys.has(ruleKey(rule))).map((rule) => ({ argv: ['ufw', 'delete', 'allow', ...ufwRuleArgs(rule)] })),
    ...[...plainPresent].filter((port) => !plainWanted.includes(port)).sort((a, b) => a - b).map((port) => ({ argv: ['ufw', 'delete', 'allow', `${port}/tcp`] })),
  ];
}
