import type { InputError } from './input-error.ts';
import type { Credential, SettingsOverrides } from './load.ts';
import type { ParsedSettings } from './schema.ts';

/**
 * What loading settings needs from a broker: the listeners it serves, the templates a user may
 * replace, and the checks only it has rules for. Each broker role supplies its own
 * (BrokerRole.settings, src/brokers/registry.ts), so the settings layer names no broker and
 * src/brokers/load-settings.ts hands them to resolveSettingsWith.
 */
export interface BrokerSettingsRules {
  /** The listener names this broker serves, in the order an error lists them. */
  listeners: readonly string[];
  /** Config files whose shipped template a user may replace. */
  templateNames: readonly string[];
  /**
   * Checks and completes the settings only this broker reads (EMQX: the `emqx` block's cookie file,
   * package, cluster and version rules), one InputError per problem; returns the completed fields.
   */
  resolve?(settings: ParsedSettings, overrides: SettingsOverrides, baseDir: string, errors: InputError[]): BrokerCompletedFields;
  /** The admins judged as this broker's own accounts (EMQX: dashboard users), when the state is present; one line per problem. */
  adminProblems?(admins: Credential[]): string[];
}

/** Fields a broker's resolve may complete: plain settings, not the ones loading itself reads in (passwords, TLS files, templates). */
export type BrokerCompletedFields = Partial<Omit<ParsedSettings, 'admins' | 'users' | 'consumers' | 'templates' | 'tls'>>;

export type BrokerSettingsRulesFor = (broker: ParsedSettings['broker']) => BrokerSettingsRules;
