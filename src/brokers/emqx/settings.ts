import { statSync } from 'node:fs';
import { inputCaps, readInputText } from '../../settings/input-file.ts';
import { resolve } from 'node:path';
import { Secret } from '../../secret.ts';
import { InputError } from '../../settings/input-error.ts';
import type { Credential, SettingsOverrides } from '../../settings/load.ts';
import { emqxCookiePattern, type ParsedSettings } from '../../settings/schema.ts';
import { emqxLayout } from './layout.ts';
import { versionFromPackageName } from './package-source.ts';
import { atLeast, emqxFeatures, minimumEmqxVersion, parseEmqxVersion } from './version.ts';

/** The dashboard's own rules (emqx_dashboard_admin): user names ^[_a-zA-Z0-9]*$, passwords 8–64 of two kinds. */
const dashboardUserPattern = /^[A-Za-z0-9_]+$/;

export function dashboardPasswordProblem(password: string): string | null {
  if (password.length < 8 || password.length > 64) return 'EMQX dashboard passwords must be 8–64 characters';
  const kinds = [/[A-Za-z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((kind) => kind.test(password)).length;
  if (kinds < 2) return 'EMQX dashboard passwords need at least two kinds of letters, digits and other characters';
  return null;
}

/**
 * Admins become EMQX dashboard users, whose rules are stricter than the shared settings'. Checked
 * when planning (the host fails before any change) rather than when loading, so settings shared
 * with Mosquitto still load; returns one line per problem.
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
      if (seeds.length > 1 && features.businessSource) {
        errors.push(new InputError('settings.version', "EMQX 5.9+ is BSL-licensed and its default license forbids clustering; use 5.8.x (the last Apache-2.0 line) or add a license through extraConfig"));
      }
    }
  }

  return emqx;
}

function readCookieFile(path: string, errors: InputError[]): Secret | undefined {
  let text: string;
  try {
    text = readInputText(path, 'settings.emqx.cookieFile', inputCaps.secret).replace(/\r?\n$/, '');
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    errors.push(error);
    return undefined;
  }
  if (!emqxCookiePattern.test(text)) {
    errors.push(new InputError('settings.emqx.cookieFile', 'the cookie must be 16–255 characters of A-Z a-z 0-9 _ . + = -'));
    return undefined;
  }
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
  if (!/\.(rpm|deb)$/.test(path)) errors.push(new InputError(field, `${path} is neither an .rpm nor a .deb`));
  else if (version === '' && versionFromPackageName(path) === null) {
    errors.push(new InputError(field, `cannot tell the EMQX version from the name ${path}; set "version" too`));
  }
}
