/**
 * Bad input from the user: a settings file, a flag or an environment variable. Front doors turn it
 * into exit code 2 before any host is contacted. `field` is the dotted path the user has to fix.
 */
export class InputError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'InputError';
    this.field = field;
  }
}

/** Several input errors found at once: users fix a file faster when they see all of them. */
export class InputErrors extends Error {
  readonly errors: InputError[];

  constructor(errors: InputError[]) {
    super(errors.map((error) => error.message).join('\n'));
    this.name = 'InputErrors';
    this.errors = errors;
  }
}
