import type { HostFacts } from '../../facts/host-facts.ts';
import { fileStep, restoreFile } from '../../operations/files.ts';
import type { ManagedFile } from '../../operations/managed-file.ts';
import { writesFile, type Command, type Step } from '../../operations/step.ts';
import { emqxLayout as layout } from './layout.ts';

/** emqx.conf's own safety net, and how a restart knows EMQX really started. */

/**
 * `emqx check_config` (bin/emqx) checks base.hocon (5.8.4+), cluster.hocon and emqx.conf together,
 * and EMQX_* variables; exit 1 when EMQX would refuse them. Only emqx.conf is ours, so a failure
 * says which of the files EMQX's error names (or that it names none), then EMQX's own text.
 */
export const checkConfigCommand: Command = {
  argv: [
    'sh',
    '-c',
    'if out=$(emqx check_config 2>&1); then exit 0; fi; named=""; ' +
      'for f in "$@"; do case "$out" in *"$f"*) if [ "$f" = "$1" ]; then w="written by mqtt-provision"; else w="EMQX\'s own, not written by mqtt-provision"; fi; named="$named${named:+, }$f ($w)" ;; esac; done; ' +
      'if [ -n "$named" ]; then echo "emqx check_config failed: the error names $named" >&2; ' +
      'else echo "emqx check_config failed: the error names no file; it checks $3, $2 and $1 together" >&2; fi; ' +
      'printf \'%s\\n\' "$out" >&2; exit 1',
    'mqtt-provision-check-config',
    layout.configFile,
    layout.clusterHocon,
    layout.baseHocon,
  ],
};

/**
 * `systemctl is-active` says nothing about EMQX, whose unit is Type=simple: this waits until
 * `emqx ctl status` reports the node started (at most 120 s).
 */
export const waitStartedCommand: Command = {
  argv: [
    'sh',
    '-c',
    'i=0; while [ "$i" -lt 120 ]; do case "$(emqx ctl status 2>&1)" in *"is started"*) exit 0 ;; esac; i=$((i + 1)); sleep 1; done; ' +
      'echo "EMQX did not report started within 120 s" >&2; exit 1',
    'mqtt-provision-wait-emqx',
  ],
};

/**
 * emqx.conf with a safety net before any restart: back up, write in place, `emqx check_config`
 * (which only ever reads /etc/emqx/emqx.conf), and put the previous file back if EMQX rejects it.
 */
export function checkedConfigStep(facts: HostFacts, file: ManagedFile): Step {
  const step = fileStep(facts, file);
  if (!writesFile(step)) return step;
  return {
    ...step,
    commands: [...step.commands, checkConfigCommand],
    rollback: [restoreFile(file.path)],
  };
}

