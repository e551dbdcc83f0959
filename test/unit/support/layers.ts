// The layer rule of docs/architecture.md as a pure function: the doc's tables in, the repository's
// imports in, one message per import that breaks the rule out. layers.test.ts feeds it the real
// tree; it also feeds it fake imports, so the check is seen to fail.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One row of the layer table: a number (higher may import lower), a name, the paths it owns. */
export interface Layer {
  rank: number;
  name: string;
  /** Repository-relative: a folder ends with `/`, anything else is one file. */
  paths: string[];
}

export interface LayerRules {
  layers: Layer[];
  /** Pairs of paths (from the doc's siblings table) that never import each other. */
  siblings: [string, string][];
}

/** An import as written: the importing file and the repository-relative file it names. */
export interface Import {
  from: string;
  to: string;
  /** The specifier as written in the source, for the message. */
  specifier: string;
}

const codeSpans = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** The table rows under a `## heading` (up to the next heading), cells split, header and rule dropped. */
function tableUnder(doc: string, heading: string): string[][] {
  const markdown = `\n${doc}`;
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/architecture.md has no "${heading}" section`);
  const rest = markdown.slice(start + heading.length + 2);
  const end = rest.search(/\n#{1,3} /);
  const section = end < 0 ? rest : rest.slice(0, end);
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) => line.slice(1, line.endsWith('|') ? -1 : undefined).split('|').map((c) => c.trim()));
  return rows.slice(2);
}

/** Reads the layer table (`### Layer table`) and the siblings table (`### Siblings`) of the doc. */
export function parseLayerRules(markdown: string): LayerRules {
  const layers = tableUnder(markdown, '### Layer table').map(([rank, name, paths]) => ({
    rank: Number(rank),
    name: name ?? '',
    paths: codeSpans(paths ?? ''),
  }));
  const siblings = tableUnder(markdown, '### Siblings').map(([a, b]) => {
    const [left] = codeSpans(a ?? '');
    const [right] = codeSpans(b ?? '');
    return [left!, right!] as [string, string];
  });
  for (const layer of layers) {
    if (!Number.isInteger(layer.rank) || layer.paths.length === 0) throw new Error(`layer table row "${layer.name}" needs a number and paths`);
  }
  return { layers, siblings };
}

const owns = (entry: string, file: string): boolean => (entry.endsWith('/') ? file.startsWith(entry) : file === entry);

/** The table path that owns a file: the longest matching entry, so a file row beats its folder's row. */
export function ownerOf(rules: LayerRules, file: string): { layer: Layer; entry: string } | undefined {
  let best: { layer: Layer; entry: string } | undefined;
  for (const layer of rules.layers) {
    for (const entry of layer.paths) {
      if (owns(entry, file) && (!best || entry.length > best.entry.length)) best = { layer, entry };
    }
  }
  return best;
}

const label = (layer: Layer): string => `layer ${layer.rank} ${layer.name}`;

/**
 * Every broken rule, one line each, naming the file, the import and both layers:
 * an import that points up a layer; two siblings importing each other; product code importing the
 * lab (which the table puts above every front door, so that is an upward import with its own words);
 * a cycle between two table paths of one layer (os ↔ operations); a file the table does not place.
 */
export function layerViolations(rules: LayerRules, files: string[], imports: Import[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    if (!ownerOf(rules, file)) problems.push(`${file} is in no row of the layer table in docs/architecture.md`);
  }
  const sameLayerEdges = new Map<string, Import>();
  for (const imp of imports) {
    const from = ownerOf(rules, imp.from);
    const to = ownerOf(rules, imp.to);
    if (!from || !to) continue;
    const what = `${imp.from} imports '${imp.specifier}'`;
    if (to.layer.rank > from.layer.rank) {
      const lab = to.layer.name === 'lab' ? ' (product code never imports the lab: only scripts/, bench/ and test/ do)' : '';
      problems.push(`${what}: ${label(from.layer)} may not import ${label(to.layer)}, a higher layer${lab}`);
      continue;
    }
    for (const [a, b] of rules.siblings) {
      if ((owns(a, imp.from) && owns(b, imp.to)) || (owns(b, imp.from) && owns(a, imp.to))) {
        problems.push(`${what}: ${from.entry} and ${to.entry} are siblings (${label(from.layer)}, ${label(to.layer)}) and never import each other`);
      }
    }
    if (to.layer.rank === from.layer.rank && to.entry !== from.entry) sameLayerEdges.set(`${from.entry} → ${to.entry}`, imp);
  }
  for (const [edge, imp] of sameLayerEdges) {
    const [a, b] = edge.split(' → ') as [string, string];
    const back = sameLayerEdges.get(`${b} → ${a}`);
    if (back && a < b) {
      const layer = ownerOf(rules, imp.from)!.layer;
      problems.push(
        `${imp.from} imports '${imp.specifier}' and ${back.from} imports '${back.specifier}': ${a} and ${b} (both ${label(layer)}) import each other; one of them must go down a layer`,
      );
    }
  }
  return problems;
}

/** The repository's own TypeScript: src/, index.ts, scripts/ and bench/ (test/ may import anything). */
export function sourceFiles(root: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'results' ? [] : walk(rel);
      return /\.m?ts$/.test(entry.name) ? [rel] : [];
    });
  return ['index.ts', ...walk('src'), ...walk('scripts'), ...walk('bench')].sort();
}

/** Every relative import of a file (static, re-export, type-only, `import()` and `typeof import()`), resolved to repository paths. */
export function importsOf(root: string, file: string): Import[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .map((ref) => ref.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => ({ from: file, specifier, to: path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)) }));
}
