import { emptyFacts } from '../../facts/empty-facts.ts';
import type { ManagedFile } from '../../operations/managed-file.ts';
import type { Settings } from '../../settings/load.ts';
import { seededSalt } from '../prepared.ts';
import { mosquittoFilesWithTls, mosquittoTlsLayout } from './files.ts';
import { chooseMetricsPassword, renderExporterFiles } from './metrics.ts';
import { defaultIssuer, tlsFiles } from '../../tls/server-files.ts';

/**
 * The files a fresh host would get (--render-to): with metrics on, also the exporter's three files,
 * under one password drawn here and hashed into the passwd file, so the rendered set works together.
 */
export function mosquittoRenderFiles(settings: Settings, draw?: () => string): ManagedFile[] {
  const facts = emptyFacts();
  const metricsPassword = settings.metrics.enabled && settings.state === 'present' ? chooseMetricsPassword(facts, draw) : undefined;
  const { files } = mosquittoFilesWithTls(settings, null, seededSalt(), tlsFiles(settings, facts, mosquittoTlsLayout, defaultIssuer), undefined, metricsPassword);
  return metricsPassword ? [...files, ...renderExporterFiles(settings, metricsPassword)] : files;
}
