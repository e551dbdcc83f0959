import type { HostFacts } from '../../facts/host-facts.ts';
import type { Settings } from '../../settings/load.ts';
import { defaultIssuer, tlsFiles, type TlsIssuer } from '../../tls/server-files.ts';
import { nothingPrepared, seededSalt, type PreparedInputs } from '../prepared.ts';
import { mosquittoTlsLayout } from './files.ts';
import { chooseMetricsPassword } from './metrics.ts';

/** What a test swaps for determinism; a real run draws a salt seed and issues with the CA in caDir. */
export interface MosquittoPrepareOptions {
  salt?: ((name: string) => Buffer) | undefined;
  /** A dry run's issuer draws no key (placeholders); the default issues a real one. */
  issuer?: TlsIssuer | undefined;
  /** Draws the exporter's password where the host has none yet. */
  metricsPassword?: (() => string) | undefined;
}

/** Mosquitto's prepare phase: the TLS files (kept, issued or placeholders), the password salts, the exporter's password. */
export function prepareMosquitto(facts: HostFacts, settings: Settings, options: MosquittoPrepareOptions = {}): PreparedInputs {
  if (settings.state === 'absent') return nothingPrepared;
  const prepared: PreparedInputs = { tls: tlsFiles(settings, facts, mosquittoTlsLayout, options.issuer ?? defaultIssuer), salt: options.salt ?? seededSalt() };
  return settings.metrics.enabled ? { ...prepared, metricsPassword: chooseMetricsPassword(facts, options.metricsPassword) } : prepared;
}
