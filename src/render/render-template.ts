import Handlebars from 'handlebars';
import { inputCaps, readInputText } from '../settings/input-file.ts';

const shippedTemplates = new URL('../../templates/', import.meta.url);

/**
 * Renders a config file template: the user's own file when settings.templates names one, else the
 * shipped templates/<name>.hbs. Config files are not HTML, so nothing is escaped; `strict` makes a
 * misspelt variable an error instead of an empty line.
 */
export function renderTemplate(name: string, context: object, overrides: Record<string, string> = {}): string {
  const path = overrides[name] ?? new URL(`${name}.hbs`, shippedTemplates).pathname;
  const source = readInputText(path, `settings.templates.${name}`, inputCaps.template);
  const template = Handlebars.compile(source, { noEscape: true, strict: true });
  try {
    return template(context);
  } catch (error) {
    throw new Error(`template ${path}: ${(error as Error).message}`);
  }
}
