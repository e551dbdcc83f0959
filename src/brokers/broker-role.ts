import type { FactQuery, HostFacts } from '../facts/host-facts.ts';
import type { ManagedFile } from '../operations/managed-file.ts';
import type { Step } from '../operations/step.ts';
import type { BrokerSettingsRules } from '../settings/broker-rules.ts';
import type { Settings } from '../settings/load.ts';
import type { TlsIssuer } from '../tls/server-files.ts';
import type { PreparedInputs } from './prepared.ts';
import type { Transport } from '../transport/transport.ts';

/** What the engine needs of a broker: which facts to gather and how to plan from them. */
export interface BrokerRole {
  /** Its listeners, templates and own settings checks, applied while settings load (src/brokers/load-settings.ts). */
  settings: BrokerSettingsRules;
  factQuery(settings: Settings): FactQuery;
  /**
   * The prepare phase, after the facts and before planning: issues TLS certificates, draws salts and
   * cookies, reads controller files. `issuer`: a dry run's draws no key (placeholders for what a run
   * that applies would issue).
   */
  prepare(facts: HostFacts, settings: Settings, options: { issuer: TlsIssuer }): PreparedInputs;
  /** Pure: the same facts, settings and prepared inputs always give the same steps. */
  plan(facts: HostFacts, settings: Settings, prepared: PreparedInputs): Step[];
  /** The config files for these settings as a fresh host would get them (for --render-to). */
  renderFiles(settings: Settings): ManagedFile[];
  /**
   * Optional second fact-gathering round trip, after the probe, for facts that need secrets (which
   * must travel on stdin, never as probe arguments), e.g. EMQX's REST API logins.
   */
  extraFacts?(transport: Transport, facts: HostFacts, settings: Settings): Promise<HostFacts>;
  /**
   * True when these settings make the hosts one system that must change one host at a time (an
   * EMQX static cluster): the engine then converges them in order, serially, and starts no host
   * after one failed, whatever --concurrency says.
   */
  rolling?(settings: Settings): boolean;
  /** Settings this broker cannot honour fully (e.g. persistence on an EMQX without durable sessions): printed, not refused. */
  warnings?(settings: Settings): string[];
}
