import { createRequire } from 'node:module';
import type HandlebarsModule from 'handlebars';
import { inputCaps, readInputText } from '../settings/input-file.ts';

// Handlebars (its compiler and source-map: ~35 modules, ~20 ms) loads when a template is first
// compiled, not with the broker role: a run warms it up while its first host is busy (templateWarmUp).
const require = createRequire(import.meta.url);
let handlebars: typeof HandlebarsModule | undefined;
const loadHandlebars = (): typeof HandlebarsModule => (handlebars ??= require('handlebars') as typeof HandlebarsModule);

const shippedTemplates = new URL('../../templates/', import.meta.url);

/**
 * Compiling a template is most of a plan's controller time (mosquitto.conf: ~4 ms a host, issue 20)
 * and every host of a run, the settings check and --render-to use the same few templates: each
 * source text is compiled once per process. Keyed by the text, not the path, so a user's template
 * edited between two calls (a long-lived Pulumi process) is compiled afresh; a bound keeps such a
 * process from collecting every version it ever saw.
 */
const compiled = new Map<string, HandlebarsModule.TemplateDelegate>();
const compiledLimit = 32;
/** The shipped templates are part of the program and read once; a user's own file is read on every call. */
const shippedSources = new Map<string, string>();

/**
 * Renders a config file template: the user's own file when settings.templates names one, else the
 * shipped templates/<name>.hbs. Config files are not HTML, so nothing is escaped; `strict` makes a
 * misspelt variable an error instead of an empty line.
 */
export function renderTemplate(name: string, context: object, overrides: Record<string, string> = {}): string {
  const { path, source } = templateSource(name, overrides);
  try {
    return compiledTemplate(source)(context);
  } catch (error) {
    throw new Error(`template ${path}: ${(error as Error).message}`);
  }
}

function templateSource(name: string, overrides: Record<string, string>): { path: string; source: string } {
  const own = overrides[name];
  if (own !== undefined) return { path: own, source: readInputText(own, `settings.templates.${name}`, inputCaps.template) };
  const path = new URL(`${name}.hbs`, shippedTemplates).pathname;
  let source = shippedSources.get(path);
  if (source === undefined) {
    source = readInputText(path, `settings.templates.${name}`, inputCaps.template);
    shippedSources.set(path, source);
  }
  return { path, source };
}

/** Handlebars compiles on the first call of what it returns (a template that does not parse throws then, on every call). */
function compiledTemplate(source: string): HandlebarsModule.TemplateDelegate {
  let template = compiled.get(source);
  if (template === undefined) {
    if (compiled.size >= compiledLimit) compiled.delete(compiled.keys().next().value!);
    template = loadHandlebars().compile(source, { noEscape: true, strict: true });
    compiled.set(source, template);
  }
  return template;
}

/**
 * Loading Handlebars, then compiling each of these templates: the work a first render would do,
 * as separate pieces, so a caller can run them while the process would only wait (for a host's lock
 * and facts) and let an SSH reply in between two pieces, which takes a first compile's ~45 ms off a
 * run's critical path (issue 20). No piece changes a result or throws: a template that does not
 * read or compile fails where it is rendered, as before.
 */
export function templateWarmUp(names: readonly string[], overrides: Record<string, string> = {}): Array<() => void> {
  return [
    () => void loadHandlebars(),
    ...names.map((name) => () => {
      try {
        // Handlebars compiles on the first call; strict mode then stops at the first value {} lacks.
        compiledTemplate(templateSource(name, overrides).source)({});
      } catch {
        // Rendered (and reported) by the plan.
      }
    }),
  ];
}
