/**
 * A tiny JSON Schema checker for the keywords docs/json-schema/*.json use (type, const, enum,
 * properties, required, additionalProperties, propertyNames, items, minimum, minLength, pattern,
 * $ref within a file or to another file of the folder). An unknown keyword throws, so a schema
 * edit that needs more cannot pass unchecked. No dependency for a few dozen lines.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Schema = Record<string, unknown>;
const known = new Set(['$schema', '$id', '$defs', 'title', 'description', 'type', 'const', 'enum', 'properties', 'required', 'additionalProperties', 'propertyNames', 'items', 'minimum', 'minLength', 'pattern', '$ref']);
export const schemaDirectory = join(import.meta.dirname, '..', '..', '..', 'docs', 'json-schema');

function load(file: string): Schema {
  return JSON.parse(readFileSync(join(schemaDirectory, file), 'utf8')) as Schema;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Every place `value` breaks the schema in `file`, as "path: problem" lines; empty when it conforms. */
export function validate(file: string, value: unknown): string[] {
  const errors: string[] = [];
  const check = (schema: Schema, root: Schema, data: unknown, path: string): void => {
    for (const key of Object.keys(schema)) if (!known.has(key)) throw new Error(`json-schema.ts does not know the keyword ${key}`);
    if (typeof schema.$ref === 'string') {
      const [other, pointer = ''] = schema.$ref.split('#');
      const base = other ? load(other) : root;
      const target = pointer.split('/').filter(Boolean).reduce<unknown>((node, part) => (node as Schema)[part], base) as Schema;
      check(target, base, data, path);
    }
    const actual = typeOf(data);
    if (schema.type !== undefined) {
      const types = ([] as string[]).concat(schema.type as string);
      if (!types.includes(actual) && !(actual === 'integer' && types.includes('number'))) errors.push(`${path}: ${actual}, expected ${types.join('|')}`);
    }
    if ('const' in schema && data !== schema.const) errors.push(`${path}: ${JSON.stringify(data)}, expected ${JSON.stringify(schema.const)}`);
    if (Array.isArray(schema.enum) && !schema.enum.includes(data)) errors.push(`${path}: ${JSON.stringify(data)} not one of ${JSON.stringify(schema.enum)}`);
    if (typeof schema.minimum === 'number' && typeof data === 'number' && data < schema.minimum) errors.push(`${path}: ${data} < ${schema.minimum}`);
    if (typeof schema.minLength === 'number' && typeof data === 'string' && data.length < schema.minLength) errors.push(`${path}: shorter than ${schema.minLength}`);
    if (typeof schema.pattern === 'string' && typeof data === 'string' && !new RegExp(schema.pattern, 'u').test(data)) errors.push(`${path}: ${JSON.stringify(data)} does not match ${schema.pattern}`);
    if (actual === 'array' && schema.items) (data as unknown[]).forEach((item, index) => check(schema.items as Schema, root, item, `${path}[${index}]`));
    if (actual === 'object') {
      const object = data as Record<string, unknown>;
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      for (const name of (schema.required ?? []) as string[]) if (!(name in object)) errors.push(`${path}: missing ${name}`);
      for (const [name, item] of Object.entries(object)) {
        if (schema.propertyNames) check(schema.propertyNames as Schema, root, name, `${path}{${name}}`);
        if (name in properties) check(properties[name]!, root, item, `${path}.${name}`);
        else if (schema.additionalProperties === false) errors.push(`${path}: unexpected ${name}`);
        else if (typeof schema.additionalProperties === 'object') check(schema.additionalProperties as Schema, root, item, `${path}.${name}`);
      }
    }
  };
  const root = load(file);
  check(root, root, value, '$');
  return errors;
}
