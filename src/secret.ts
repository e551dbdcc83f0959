import { inspect } from 'node:util';

/**
 * A password or other secret value. It prints as "[secret]" everywhere (console, JSON, util.inspect,
 * template literals) so that no log line or report can leak it by accident; only `reveal()` gives
 * the value, and every call of it is a place to audit.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspect.custom](): string {
    return '[secret]';
  }
}
