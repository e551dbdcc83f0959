import type { HostFacts } from '../facts/host-facts.ts';
import { fileStep, removeBackups, restoreFile, restoreLeftBackup } from './files.ts';
import type { ManagedFile } from './managed-file.ts';
import { pendingRestartMarker, pendingRestartStep, restartStep, serviceEnabledStep } from './service.ts';
import { writesFile, type Command, type Step } from './step.ts';

/**
 * Files → restart (or reload) → rollback, shared by both brokers' planPresent: given the planned
 * file steps, what must follow them. A restart-pending marker goes before the first file, the
 * handler right after the last (so nothing that may fail later stands between them), and the
 * handler's rollback puts the previous files back and restarts on them.
 */
export interface ConfigHandlerInput {
  facts: HostFacts;
  service: string;
  /** The managed files with their planned steps, in the order their backups are restored. */
  files: Array<{ file: ManagedFile; step: Step }>;
  /** Why to restart besides the files (a package installed or changed). */
  otherReasons: string[];
  /**
   * Which file changes count: `content` (a rewrite) or `any` (owner and mode too). Mosquitto
   * restarts or reloads on any change of its files; EMQX only on a rewrite.
   */
  counts: 'content' | 'any';
  /** What must succeed after the restart (`systemctl is-active`, EMQX's own started check …). */
  restartChecks: Command[];
  /** Run first by the restart's rollback: the previous package and its data (an upgrade's way back). */
  downgrade: Command[];
  /** In the restart's rollback, after the files are put back (systemctl daemon-reload for a restored drop-in). */
  afterRestore?: Command[];
  /** After an interrupted run, its backups of the files this run leaves alone are the last good config (Mosquitto). */
  restoreLeftBackups: boolean;
  /** For changes only of `apply: reload` files: the broker's reload step (Mosquitto's checked SIGHUP). */
  reload?: (changedPaths: string[]) => Step;
}

export interface ConfigHandler {
  /** Written before the first file; null when nothing changes. */
  marker: Step | null;
  /** Restart or reload (or nothing), then the service enabled and running. */
  handler: Step[];
}

export function configHandlerSteps(input: ConfigHandlerInput): ConfigHandler {
  const { facts, service } = input;
  const counted = (step: Step) => (input.counts === 'content' ? writesFile(step) : step.change);
  const changed = input.files.filter(({ step }) => counted(step));
  const changedPaths = changed.map(({ file }) => file.path);
  const interrupted = facts.files[pendingRestartMarker(service)] != null;
  const restartReasons = [
    ...input.otherReasons,
    ...changed.filter(({ file }) => file.apply === 'restart').map(({ file }) => `${file.path} changed`),
    ...(interrupted ? ['an earlier run changed the config but stopped before restarting'] : []),
  ];
  const needsRestart = restartReasons.length > 0;
  const marker = needsRestart || changed.length > 0 ? pendingRestartStep(service, 'the config changes in this run') : null;
  const handler: Step[] = [];
  if (needsRestart) {
    const leftBehind = input.restoreLeftBackups && interrupted;
    const unchangedPaths = input.files.filter(({ step }) => !counted(step)).map(({ file }) => file.path);
    const backedUp = leftBehind ? input.files.map(({ file }) => file.path) : changedPaths;
    handler.push(
      restartStep({
        service,
        reason: restartReasons.join(', '),
        checks: input.restartChecks,
        restore: [...input.downgrade, ...changedPaths.map(restoreFile), ...(leftBehind ? unchangedPaths.map(restoreLeftBackup) : []), ...(input.afterRestore ?? [])],
        cleanup: backedUp.length > 0 ? [removeBackups(backedUp)] : [],
      }),
    );
  } else if (changed.length > 0 && input.reload) {
    handler.push(input.reload(changedPaths));
  }
  handler.push(serviceEnabledStep(facts, service, needsRestart || changed.length > 0));
  return { marker, handler };
}

/** The file steps of `files`; a certificate issued on this run says why, not only that its bytes differ. */
export function plannedFiles(facts: HostFacts, files: ManagedFile[], reissued?: { path: string; reason: string | undefined }): Array<{ file: ManagedFile; step: Step }> {
  return files.map((file) => {
    const step = fileStep(facts, file);
    if (reissued?.reason !== undefined && writesFile(step) && file.path === reissued.path) return { file, step: { ...step, reason: `re-issued: ${reissued.reason}` } };
    return { file, step };
  });
}
