/** A file the broker needs, rendered on the controller and compared by hash with the host's copy. */
export interface ManagedFile {
  path: string;
  content: string;
  mode: string;
  owner: string;
  group: string;
  /** Holds secrets or password hashes: never diffed on screen. */
  secret?: boolean;
  /** What the broker must do to pick a change up. */
  apply: 'restart' | 'reload';
}
