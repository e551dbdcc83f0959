import { readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { readSecretFile } from '../../settings/input-file.ts';
import { Secret } from '../../secret.ts';
import type { BrokerSettingsRules } from '../../settings/broker-rules.ts';
import { InputError } from '../../settings/input-error.ts';
import type { Credential, SettingsOverrides } from '../../settings/load.ts';
import { emqxCookiePattern, type ParsedSettings } from '../../settings/schema.ts';
import { checkMetricsSettings } from '../metrics-settings.ts';
import { emqxLayout } from './layout.ts';
import { versionFromPackageName } from './package-source.ts';
import { atLeast, emqxFeatures, enterpriseOnlyProblem, minimumEmqxVersion, parseEmqxVersion } from './version.ts';

/** The dashboard's own rules (emqx_dashboard_admin.erl, v5.7.2–v5.8.8): user names ^[_a-zA-Z0-9]*$. */
const dashboardUserPattern = /^[A-Za-z0-9_]+$/;
/**
 * Passwords (legal_password/1 there): 8–64 bytes, ASCII only (ascii_character_validate), and at
 * least two of the groups ?NUMBER, ?LETTER and ?SPECIAL_CHARS. A character in none of them (a
 * backslash, a tab) is allowed but counts for no group.
 */
const dashboardSpecialCharacters = '!@#$%^&*()_+-=[]{}"|;\':,./<>?`~ ';

export function dashboardPasswordProblem(password: string): string | null {
  if (/[^\x00-\x7f]/.test(password)) return 'EMQX dashboard passwords hold ASCII characters only';
  // EMQX would take one, but the CLI reset carries the password as one here-document line.
  if (/[\r\n]/.test(password)) return 'EMQX dashboard passwords cannot hold a line break here';
  if (password.length < 8 || password.length > 64) return 'EMQX dashboard passwords must be 8–64 characters';
  const groups = [/[A-Za-z]/.test(password), /[0-9]/.test(password), [...password].some((char) => dashboardSpecialCharacters.includes(char))];
  if (groups.filter(Boolean).length < 2) {
    return `EMQX dashboard passwords need at least two kinds of letters, digits and the special characters ${dashboardSpecialCharacters.trim()} or space (a backslash or tab counts for none)`;
  }
  return null;
}

/**
 * Admins become EMQX dashboard users, whose rules are stricter than the shared settings'. Checked
 * once, when EMQX settings load (emqxSettingsRules.adminProblems: exit 2 before any host;
 * Mosquitto settings are not held to them); returns one line per problem.
 */
export function dashboardAdminProblems(admins: Credential[]): string[] {
  const problems: string[] = [];
  admins.forEach((admin, index) => {
    if (!dashboardUserPattern.test(admin.name)) problems.push(`admins[${index}] "${admin.name}": EMQX dashboard user names hold only letters, digits and "_"`);
    else if (admin.name === emqxLayout.serviceAccount) problems.push(`admins[${index}]: "${emqxLayout.serviceAccount}" is the account mqtt-provision itself uses`);
    const problem = dashboardPasswordProblem(admin.password.reveal());
    if (problem) problems.push(`admins[${index}] "${admin.name}": ${problem}`);
  });
  return problems;
}

/**
 * Checks and completes the `emqx` block for an EMQX deployment: reads the cookie file, finds the
 * package (flag, environment, settings) and refuses combinations EMQX itself would reject at boot,
 * so they fail with exit 2 before any host is touched. Mosquitto settings pass through unchanged.
 */
export function resolveEmqxSettings(
  settings: ParsedSettings,
  overrides: SettingsOverrides,
  baseDir: string,
  errors: InputError[],
): ParsedSettings['emqx'] {
  const emqx = { ...settings.emqx, cluster: { ...settings.emqx.cluster } };
  if (settings.broker !== 'emqx') return emqx;

  if (emqx.cookie !== undefined && emqx.cookieFile !== undefined) {
    errors.push(new InputError('settings.emqx', 'give either "cookie" or "cookieFile", not both'));
  } else if (emqx.cookieFile !== undefined) {
    const cookie = readCookieFile(resolve(baseDir, emqx.cookieFile), errors);
    delete emqx.cookieFile;
    if (cookie) emqx.cookie = cookie;
  }

  const packagePath = overrides.emqxPackage ?? overrides.env?.MQTT_EMQX_PACKAGE;
  if (packagePath !== undefined) emqx.package = resolve(process.cwd(), packagePath);
  else if (emqx.package !== undefined) emqx.package = resolve(baseDir, emqx.package);
  if (emqx.package !== undefined) checkPackage(emqx.package, settings.version, errors);

  const seeds = emqx.cluster.seeds;
  if (seeds.length === 1) errors.push(new InputError('settings.emqx.cluster.seeds', 'a cluster needs at least two nodes; for one node set emqx.nodeName instead'));
  if (new Set(seeds).size !== seeds.length) errors.push(new InputError('settings.emqx.cluster.seeds', 'lists a node twice'));
  if (seeds.length > 1) {
    if (emqx.nodeName !== undefined) errors.push(new InputError('settings.emqx.nodeName', 'a cluster node takes its name from emqx.cluster.seeds; remove nodeName'));
    if (emqx.cookie === undefined) errors.push(new InputError('settings.emqx.cookie', 'every node of a cluster needs the same cookie: give emqx.cookie or emqx.cookieFile'));
    if (emqx.durableSessions) {
      errors.push(new InputError('settings.emqx.durableSessions', 'durable sessions of the Community Edition store on one node only (builtin_local) and EMQX refuses them in a cluster'));
    }
  }

  if (settings.version !== '') {
    const version = parseEmqxVersion(settings.version);
    if (!version) errors.push(new InputError('settings.version', `"${settings.version}" is not an EMQX version like 5.8.6`));
    else if (!atLeast(settings.version, minimumEmqxVersion)) {
      errors.push(new InputError('settings.version', `EMQX before ${minimumEmqxVersion} lets dashboard edits override emqx.conf; use ${minimumEmqxVersion} or later`));
    } else {
      const features = emqxFeatures(settings.version);
      if (emqx.durableSessions && !features.durableSessions) errors.push(new InputError('settings.emqx.durableSessions', 'needs EMQX 5.7 or later'));
      const enterprise = enterpriseOnlyProblem(settings.version);
      if (enterprise) errors.push(new InputError('settings.version', enterprise));
    }
  }

  return emqx;
}

function readCookieFile(path: string, errors: InputError[]): Secret | undefined {
  try {
    return readSecretFile(path, 'settings.emqx.cookieFile', process.cwd(), checkCookie);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    errors.push(error);
    return undefined;
  }
}

/** The cookie's own rule, not a password's: EMQX takes 16–255 characters of a safe alphabet. */
function checkCookie(text: string, field: string): Secret {
  if (!emqxCookiePattern.test(text)) throw new InputError(field, 'the cookie must be 16–255 characters of A-Z a-z 0-9 _ . + = -');
  return new Secret(text);
}

function checkPackage(path: string, version: string, errors: InputError[]): void {
  const field = 'settings.emqx.package';
  try {
    if (!statSync(path).isFile()) throw Object.assign(new Error(), { code: 'not a file' });
  } catch (error) {
    errors.push(new InputError(field, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`));
    return;
  }
  const fromName = versionFromPackageName(path);
  if (!/\.(rpm|deb)$/.test(path)) errors.push(new InputError(field, `${path} is neither an .rpm nor a .deb`));
  else if (/^emqx-enterprise[-_]/.test(basename(path))) {
    errors.push(new InputError(field, `${basename(path)} is an emqx-enterprise package (5.9+): mqtt-provision installs the open-source emqx package (5.0.23–5.8.x)`));
  } else if (fromName !== null && enterpriseOnlyProblem(fromName)) errors.push(new InputError(field, enterpriseOnlyProblem(fromName)!));
  else if (version === '' && fromName === null) {
    errors.push(new InputError(field, `cannot tell the EMQX version from the name ${path}; set "version" too`));
  }
}

/** What loading settings takes from the EMQX role (src/settings/broker-rules.ts). */
export const emqxSettingsRules: BrokerSettingsRules = {
  listeners: ['mqtt', 'websocket', 'mqtts', 'wss', 'dashboard'],
  templateNames: ['emqx.conf'],
  resolve: (settings, overrides, baseDir, errors) => {
    checkMetricsSettings(settings, 'dashboard', errors);
    return { emqx: resolveEmqxSettings(settings, overrides, baseDir, errors) };
  },
  // EMQX's dashboard refuses some names and weak passwords.
  adminProblems: dashboardAdminProblems,
};
