import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { Secret } from '../secret.ts';
import { InputError } from './input-error.ts';

/**
 * The one way this tool reads a file the user names (settings, inventory, password and cookie
 * files, templates, PEM files, CA certificates). A device (`/dev/zero`), a FIFO or a directory is
 * refused before a byte is read, and a regular file larger than the cap is refused rather than
 * read whole, so no input can make the controller eat memory or hang. Every refusal is an
 * InputError naming the flag or field: exit 2, before any host is touched.
 */

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** Caps per kind of input: generous for what each holds, small enough to read at once. */
export const inputCaps = {
  settings: MiB,
  inventory: MiB,
  template: MiB,
  pem: 256 * KiB,
  /** A password or cookie is one line of at most 256 characters; 4 KiB leaves room for a final newline and refuses a wrong file early. */
  secret: 4 * KiB,
} as const;

/**
 * Reads a regular file of at most `maxBytes`. O_NONBLOCK makes opening a FIFO return at once
 * (instead of waiting for a writer); fstat on the opened descriptor then refuses it, so a file
 * swapped between a stat and the read cannot slip through.
 */
export function readInputBytes(path: string, field: string, maxBytes: number, baseDir = process.cwd()): Buffer {
  const absolute = resolve(baseDir, path);
  let fd: number;
  try {
    fd = openSync(absolute, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    throw new InputError(field, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new InputError(field, `${path} is not a regular file (${kindOf(stat)}); give a file`);
    if (stat.size > maxBytes) throw new InputError(field, `${path} is larger than ${formatBytes(maxBytes)}`);
    // Read one byte past the cap: a file that grows after fstat is still refused, never read whole.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > maxBytes) throw new InputError(field, `${path} is larger than ${formatBytes(maxBytes)}`);
    }
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(field, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a text file: invalid UTF-8 is refused, never replaced by U+FFFD, so what reaches a broker
 * (a password, a config line) is exactly what the file holds.
 */
export function readInputText(path: string, field: string, maxBytes: number, baseDir = process.cwd()): string {
  const bytes = readInputBytes(path, field, maxBytes, baseDir);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new InputError(field, `${path} is not valid UTF-8; save it as UTF-8 text`);
  }
}

/**
 * The one reader of secret files (SSH, admin, user, consumer and verify passwords, the EMQX
 * cookie): a one-line file, the final line break editors add dropped, checked by `check` into a
 * Secret. A password's check refuses empty, over 256 characters, NUL or a line break; a secret with
 * rules of its own (the EMQX cookie) passes its own check.
 */
export function readSecretFile(path: string, field: string, baseDir = process.cwd(), check: (value: string, field: string) => Secret = checkSecretValue): Secret {
  const text = readInputText(path, field, inputCaps.secret, baseDir).replace(/\r?\n$/, '');
  return check(text, field);
}

/** The checks every password gets, wherever it comes from (file, environment, settings). */
export function checkSecretValue(value: string, field: string): Secret {
  if (value.length === 0) throw new InputError(field, 'the password is empty');
  if (value.length > 256) throw new InputError(field, 'the password must be at most 256 characters');
  if (/[\0\r\n]/.test(value)) throw new InputError(field, 'the password must not contain NUL or line breaks');
  return new Secret(value);
}

function kindOf(stat: ReturnType<typeof fstatSync>): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}

function formatBytes(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`;
}
