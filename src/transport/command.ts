// Below src/os/ and src/operations/: the OS families spell their package commands as Commands and
// the steps carry them, so the type lives where both can import it (and what runs them: a transport).

/** A command for the host: an argument list (never a shell string) and optional stdin. */
export interface Command {
  argv: string[];
  /** File contents and secrets travel here, never in argv, so `ps` on the host shows none of them. */
  stdin?: string;
}
