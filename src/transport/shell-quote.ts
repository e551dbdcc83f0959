/**
 * The one place where an argument list becomes a shell command line (SSH runs commands through the
 * remote user's shell). Every argument is single-quoted, so `$()`, backticks, `;` and quotes reach
 * the program as plain bytes. NUL cannot be passed through a shell at all, so it is refused.
 */
export function quoteArgument(argument: string): string {
  if (argument.includes('\0')) throw new Error('an argument contains a NUL byte, which no shell can pass on');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(argument)) return argument;
  return `'${argument.replace(/'/g, `'\\''`)}'`;
}

export function quoteCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('an empty command cannot be run');
  return argv.map(quoteArgument).join(' ');
}
