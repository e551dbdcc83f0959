import Handlebars from 'handlebars';
import { inputCaps, readInputText } from '../settings/input-file.ts';

const shippedTemplates = new URL('../../templates/', import.meta.url);

/**
 * Compiling a template is most of a plan's controller time (mosquitto.conf: ~4 ms a host, issue 20)
 * and every host of a run, the settings check and --render-to use the same few templates: each
 * source text is compiled once per process. Keyed by the text, not the path, so a user's template
 * edited between two calls (a long-lived Pulumi process) is compiled afresh; a bound keeps such a
 * process from collecting every version it ever saw.
 */
const compiled = new Map<string, Handlebars.TemplateDelegate>();
const compiledLimit = 32;
/** The shipped templates are part of the program and read once; a user's own file is read on every call. */
const shippedSources = new Map<string, string>();

/**
 * Renders a config file template: the user's own file when settings.templates names one, else the
 * shipped templates/<name>.hbs. Config files are not HTML, so nothing is escaped; `strict` makes a
 * misspelt variable an error instead of an empty line.
 */
export function renderTemplate(name: string, context: object, overrides: Record<string, string> = {}): string {
  const own = overrides[name];
  const path = own ?? new URL(`${name}.hbs`, shippedTemplates).pathname;
  const source = own !== undefined ? readInputText(path, `settings.templates.${name}`, inputCaps.template) : shippedSource(path, name);
  try {
    return compiledTemplate(source)(context);
  } catch (error) {
    throw new Error(`template ${path}: ${(error as Error).message}`);
  }
}

function shippedSource(path: string, name: string): string {
  let source = shippedSources.get(path);
  if (source === undefined) {
    source = readInputText(path, `settings.templates.${name}`, inputCaps.template);
    shippedSources.set(path, source);
  }
  return source;
}

/** Handlebars compiles on the first call of what it returns (a template that does not parse throws then, on every call). */
function compiledTemplate(source: string): Handlebars.TemplateDelegate {
  let template = compiled.get(source);
  if (template === undefined) {
    if (compiled.size >= compiledLimit) compiled.delete(compiled.keys().next().value!);
    template = Handlebars.compile(source, { noEscape: true, strict: true });
    compiled.set(source, template);
  }
  return template;
}
