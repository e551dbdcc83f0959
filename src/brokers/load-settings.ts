import { loadSettingsWith, resolveSettingsWith, type Settings, type SettingsOverrides } from '../settings/load.ts';
import { brokerRole } from './registry.ts';

/**
 * Settings loading as the front doors call it: the generic loader (src/settings/load.ts), which
 * names no broker, given the chosen broker role's listeners, templates and checks. One layer above
 * the roles, so every bad field, generic or broker-specific, is still reported at once.
 */
const rulesFor = (broker: Settings['broker']) => brokerRole(broker).settings;

/** Validates raw settings, applies overrides, reads passwords: all before any host is touched. */
export function resolveSettings(raw: unknown, overrides: SettingsOverrides = {}, baseDir = process.cwd()): Settings {
  return resolveSettingsWith(rulesFor, raw, overrides, baseDir);
}

/** Loads a settings file (optional) and overrides into validated Settings. */
export function loadSettings(path: string | undefined, overrides: SettingsOverrides = {}): Settings {
  return loadSettingsWith(rulesFor, path, overrides);
}
