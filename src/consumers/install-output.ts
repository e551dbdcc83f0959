import { join } from 'node:path';
import { InputError } from '../settings/input-error.ts';
import type { Settings } from '../settings/load.ts';
import { consumerEndpoint, type ConsumerEndpoint } from './endpoint.ts';
import { bracketHost } from '../transport/host-spec.ts';

/** Where the install front door writes consumer configs, and the endpoint they name. */
export interface ConsumerOutput {
  directory: string;
  endpoint: ConsumerEndpoint;
}

/**
 * Decided with the other input checks, before any host is touched: `--consumer-configs DIR`, or
 * DIR/consumers with `--render-to`. The address is `--consumer-broker`, else the first name the
 * generated certificate carries, else the first target (with its mapped port, as verify uses it).
 */
export function consumerOutput(
  options: { consumerConfigs?: string; consumerBroker?: string; renderTo?: string },
  settings: Settings,
  firstTarget: { address: string; ports: Record<number, number> } | undefined,
): ConsumerOutput | undefined {
  const directory = options.consumerConfigs ?? (options.renderTo !== undefined && settings.consumers.length > 0 ? join(options.renderTo, 'consumers') : undefined);
  if (directory === undefined) {
    if (options.consumerBroker !== undefined) throw new InputError('--consumer-broker', 'only applies with --consumer-configs or --render-to');
    return undefined;
  }
  if (settings.consumers.length === 0) throw new InputError('--consumer-configs', 'the settings have no "consumers:" to render');
  if (options.consumerBroker !== undefined) return { directory, endpoint: consumerEndpoint(settings, options.consumerBroker) };
  const san = settings.tls?.source === 'generate' ? settings.tls.subjectAltNames[0] : undefined;
  if (san !== undefined) return { directory, endpoint: consumerEndpoint(settings, bracketHost(san)) };
  if (firstTarget === undefined) {
    throw new InputError('--consumer-broker', 'is required to render consumer configs without a host: give the address consumers connect to');
  }
  const endpoint = consumerEndpoint(settings, bracketHost(firstTarget.address));
  return { directory, endpoint: { ...endpoint, port: firstTarget.ports[endpoint.port] ?? endpoint.port } };
}
