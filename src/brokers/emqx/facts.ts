// The EMQX role's facts: what the probe's `emqx` section and the REST API round trip
// (api-facts.ts) say. They belong to the role, not to the generic facts layer, which only holds
// the HostFacts every host has; the role adds its field to HostFacts here.
import { readFileSync } from 'node:fs';
import type { HostFacts } from '../../facts/host-facts.ts';

/** `emqx ctl status`: exit 0 and "Node 'emqx@…' 5.8.6 is started" when up, "not responding to pings" (exit 1) when down. */
export interface EmqxStatusFact {
  code: number;
  /** First line of the output. */
  text: string;
}

/** A user of EMQX's built-in authentication database, as GET …/users lists it. */
export interface EmqxMqttUserFact {
  name: string;
  superuser: boolean;
}

/**
 * What EMQX's REST API (127.0.0.1, dashboard listener) says, gathered by a script on stdin so no
 * password reaches a command line. Null fields were not gathered (no login worked).
 */
export interface EmqxApiFact {
  /** GET /api/v5/status answered 200. */
  reachable: boolean;
  /** The tool's own dashboard account logs in with the password derived from the cookie. */
  serviceLogin: boolean;
  /** Wanted admin name → whether it logs in with its wanted password. */
  logins: Record<string, boolean>;
  /** admin/public still logs in; null when not checked (an admin named "admin" logs in with its wanted password). */
  defaultAdmin: boolean | null;
  mqttUsers: EmqxMqttUserFact[] | null;
  /** The rules of the `file` authorization source; present false when the source is missing. */
  acl: { present: boolean; rules: string } | null;
}

export interface EmqxFacts {
  status: EmqxStatusFact | null;
  api: EmqxApiFact | null;
  /** running_nodes of `emqx ctl cluster status --json`, read on a cluster node whose EMQX runs; absent otherwise. */
  clusterRunning?: string[] | null;
}

declare module '../../facts/host-facts.ts' {
  interface HostFacts {
    /** Present when the `emqx` command exists on the host. */
    emqx?: EmqxFacts;
  }
}

/**
 * The EMQX role's section of the fact probe: the script (probe.sh beside this file) and the parser
 * of its `emqx <tab> status <tab> exit code <tab> first line` lines. Part of emqxFactQuery().
 */
export const emqxProbe = {
  probe: readFileSync(new URL('./probe.sh', import.meta.url), 'utf8'),
  sections: {
    emqx(facts: HostFacts, fields: string[]): void {
      if (fields[0] === 'status') facts.emqx = { status: { code: Number(fields[1] ?? 1), text: fields[2] ?? '' }, api: null };
    },
  },
};
