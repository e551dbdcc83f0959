import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Settings } from '../settings/load.ts';
import { readCa } from '../tls/ca-store.ts';
import type { ConsumerEndpoint } from './endpoint.ts';
import { renderConsumerFiles } from './render.ts';

/** The CA a TLS consumer trusts: the supplied one, or the environment's generated CA (the one the broker's certificate chains to). */
export function consumerCaPem(settings: Pick<Settings, 'tls'>): string | undefined {
  const tls = settings.tls;
  if (tls === undefined) return undefined;
  if (tls.source === 'supplied') return tls.caPem;
  // Rendering never creates the CA (only a converge that applies does): say so instead.
  const ca = readCa(tls.caDir);
  if (!ca) throw new Error(`the generated CA in ${tls.caDir} does not exist yet; converge once (it creates the CA), then render the consumer configs`);
  return ca.certPem;
}

/**
 * `--consumer-configs DIR`: DIR/<consumer>/ holds its config(s) and its password file (0600, the
 * directory 0700); DIR/ca.crt the CA when the endpoint is TLS. The configs name those files by
 * absolute path. Returns every path written.
 */
export function writeConsumerConfigs(directory: string, settings: Pick<Settings, 'consumers' | 'tls'>, endpoint: ConsumerEndpoint): string[] {
  const root = resolve(directory);
  mkdirSync(root, { recursive: true });
  const written: string[] = [];
  let caFile: string | undefined;
  if (endpoint.tls) {
    const pem = consumerCaPem(settings);
    if (pem === undefined) throw new Error('the endpoint is TLS but the settings have no tls block to take the CA from');
    caFile = join(root, 'ca.crt');
    writeFileSync(caFile, pem, { mode: 0o644 });
    written.push(caFile);
  }
  for (const consumer of settings.consumers) {
    const dir = join(root, consumer.name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const paths = { passwordFile: join(dir, 'password'), ...(caFile ? { caFile } : {}) };
    for (const file of renderConsumerFiles(consumer, endpoint, paths)) {
      const target = join(dir, file.name);
      writeFileSync(target, file.content, { mode: file.secret ? 0o600 : 0o644 });
      // writeFileSync's mode applies only to a new file; an older one keeps its mode otherwise.
      chmodSync(target, file.secret ? 0o600 : 0o644);
      written.push(target);
    }
  }
  return written;
}
