import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importsOf, layerViolations, ownerOf, parseLayerRules, sourceFiles, type Import } from './support/layers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
// The rule comes from the doc, so the doc and the check cannot say different things.
const rules = parseLayerRules(readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8'));

const fake = (from: string, to: string): Import => ({ from, to, specifier: `(fake) ${to}` });
const files = ['src/settings/load.ts', 'src/brokers/emqx/plan.ts'];

describe('layers (docs/architecture.md)', () => {
  it('reads the layer table and the siblings from the doc', () => {
    assert.ok(rules.layers.length >= 10, 'the layer table has its rows');
    assert.equal(ownerOf(rules, 'src/settings/input-error.ts')?.layer.name, 'base', 'a file row beats its folder row');
    assert.equal(ownerOf(rules, 'src/settings/load.ts')?.layer.name, 'settings');
    assert.equal(ownerOf(rules, 'src/brokers/registry.ts')?.layer.name, 'broker registry');
    assert.deepEqual(rules.siblings, [
      ['src/brokers/mosquitto/', 'src/brokers/emqx/'],
      ['src/cli/', 'src/pulumi/'],
    ]);
  });

  it('finds every kind of relative import, type-only and dynamic ones included', () => {
    const found = importsOf(root, 'src/pulumi/host-provider.ts').map((imp) => imp.to);
    assert.ok(found.includes('src/pulumi/host-operations.ts'), 'typeof import() counts');
    const dynamic = importsOf(root, 'src/cli/docker-install.ts').map((imp) => imp.to);
    assert.ok(dynamic.includes('src/container/converge.ts'), 'await import() counts');
  });

  it('no import in src/, index.ts, scripts/ or bench/ breaks the rule', () => {
    const all = sourceFiles(root);
    assert.ok(all.includes('index.ts') && all.includes('scripts/lab.mts') && all.includes('src/secret.ts'));
    const imports = all.flatMap((file) => importsOf(root, file));
    assert.deepEqual(layerViolations(rules, all, imports), []);
  });

  it('fails on an import that points up a layer, naming the file, the import and both layers', () => {
    assert.deepEqual(layerViolations(rules, files, [fake('src/settings/load.ts', 'src/brokers/emqx/settings.ts')]), [
      "src/settings/load.ts imports '(fake) src/brokers/emqx/settings.ts': layer 2 settings may not import layer 8 broker roles, a higher layer",
    ]);
  });

  it('fails when the two broker roles import each other', () => {
    const [problem] = layerViolations(rules, files, [fake('src/brokers/emqx/users-state.ts', 'src/brokers/mosquitto/password-hash.ts')]);
    assert.match(problem!, /^src\/brokers\/emqx\/users-state\.ts imports .*src\/brokers\/emqx\/ and src\/brokers\/mosquitto\/ are siblings .* never import each other$/);
  });

  it('fails when cli and pulumi import each other', () => {
    const [problem] = layerViolations(rules, files, [fake('src/pulumi/stack-config.ts', 'src/cli/inventory-file.ts')]);
    assert.match(problem!, /src\/pulumi\/ and src\/cli\/ are siblings/);
  });

  it('fails when product code imports the lab, and lets scripts and bench use it', () => {
    const [problem] = layerViolations(rules, files, [fake('src/container/image.ts', 'src/lab/image.ts')]);
    assert.match(problem!, /layer 11 container may not import layer 14 lab, a higher layer \(product code never imports the lab/);
    assert.deepEqual(layerViolations(rules, files, [fake('scripts/lab.mts', 'src/lab/hosts.ts'), fake('bench/converge.mts', 'src/lab/hosts.ts')]), []);
  });

  it('fails on a cycle between two paths of one layer', () => {
    const cycle = [fake('src/pulumi/a.ts', 'src/cli/b.ts'), fake('src/cli/b.ts', 'src/pulumi/a.ts')];
    assert.ok(layerViolations(rules, files, cycle).some((line) => /import each other; one of them must go down a layer/.test(line)));
    const twoFolders = { layers: [{ rank: 1, name: 'low', paths: ['src/os/', 'src/operations/'] }], siblings: [] };
    assert.deepEqual(layerViolations(twoFolders, [], [fake('src/os/a.ts', 'src/operations/b.ts'), fake('src/operations/b.ts', 'src/os/a.ts')]), [
      "src/operations/b.ts imports '(fake) src/os/a.ts' and src/os/a.ts imports '(fake) src/operations/b.ts': src/operations/ and src/os/ (both layer 1 low) import each other; one of them must go down a layer",
    ]);
  });

  it('fails on a file the table does not place', () => {
    assert.deepEqual(layerViolations(rules, ['src/nowhere/new.ts'], []), ['src/nowhere/new.ts is in no row of the layer table in docs/architecture.md']);
  });

  it('allows imports downwards and within a layer', () => {
    assert.deepEqual(layerViolations(rules, files, [fake('src/brokers/emqx/plan.ts', 'src/operations/step.ts'), fake('src/settings/load.ts', 'src/settings/schema.ts')]), []);
  });
});
