/**
 * What both dynamic providers (host-provider.ts, config-files-provider.ts) call to reach their
 * operations module at call time. `projectPath` is relative to the project directory, which is the
 * provider process's working directory (the engine starts plugins there, and @pulumi/pulumi's
 * provider script resolves itself from it): resolving it at call time keeps a state usable after the
 * checkout moves, because `refresh` and `destroy` run the provider serialized in the state, and an
 * absolute path captured at creation would point at the old checkout for ever. `fallbackUrl` is this
 * checkout's copy, used only when the working directory has none (a program run from elsewhere).
 *
 * Pulumi serializes the providers with every function they reach, this one included, as source
 * text: so it captures nothing, takes plain strings, and imports even node: modules inside.
 */
export async function importFromProject<T>(projectPath: string, fallbackUrl: string): Promise<T> {
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { pathToFileURL } = await import('node:url');
  const local = join(process.cwd(), projectPath);
  return import(existsSync(local) ? pathToFileURL(local).href : fallbackUrl);
}
