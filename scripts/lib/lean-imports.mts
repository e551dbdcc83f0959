// Start-up work a run does not need (issue 20). zod's index loads all 63 of its error-message
// locales (64 modules, ~20-30 ms of a no-op run's start); we report in English, which zod's
// schemas import for themselves (zod/v4/classic/schemas.js imports locales/en.js directly), and
// nothing here reads z.locales. So the scripts load the locale index as `en` alone. Where zod lays
// its files out differently (another version), nothing matches and zod loads as it ships.
import module from 'node:module';

const localeIndex = /\/node_modules\/zod\/v4\/locales\/index\.js$/;

/**
 * Registers the load hook until the returned function is called: a script calls it once its
 * imports (zod among them) are loaded, so the modules loaded later (the role, Handlebars, ssh2) do
 * not pass through it. A Node without module.registerHooks loads everything.
 */
export function skipUnusedLocales(): () => void {
  if (typeof module.registerHooks !== 'function') return () => {};
  const hooks = module.registerHooks({
    load(url, context, nextLoad) {
      if (!localeIndex.test(url)) return nextLoad(url, context);
      return { format: 'module', source: "export { default as en } from './en.js';\n", shortCircuit: true };
    },
  });
  return () => hooks.deregister();
}
