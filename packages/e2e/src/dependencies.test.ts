// A package's dependencies are what its shipped code imports: every declared dependency is
// imported somewhere in src (tests aside), and every package src imports is declared, either as
// a dependency or as one its build inlines into dist (`inlinedDependencies`: the trainer's
// TensorFlow.js), which is then a devDependency only, so an install does not fetch it too.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const builtins = new Set(['node', 'vitest']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !/\.test\.ts$|-suite\.ts$|^test-|-child\.ts$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Package names imported by a file: static imports, re-exports and import('literal'). */
function importedPackages(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const names: string[] = [];
  for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"./][^'"]*)['"]/g)) {
    const specifier = match[1];
    if (specifier.startsWith('node:')) continue;
    const parts = specifier.split('/');
    names.push(specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
  }
  return names;
}

const manifests = ['packages', 'apps'].flatMap((group) =>
  readdirSync(join(root, group)).map((name) => join(root, group, name, 'package.json')).filter((path) => {
    try {
      readFileSync(path);
      return true;
    } catch {
      return false;
    }
  }),
);

interface Manifest {
  name: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  inlinedDependencies?: string[];
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const byName = new Map(manifests.map((path) => JSON.parse(readFileSync(path, 'utf8')) as Manifest).map((manifest) => [manifest.name, manifest]));
const optionalPeersOf = (manifest: Manifest | undefined) => Object.keys(manifest?.peerDependenciesMeta ?? {}).filter((name) => manifest?.peerDependenciesMeta?.[name]?.optional);

describe('declared dependencies match imports', () => {
  for (const manifestPath of manifests) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    if (manifest.private) continue;
    it(manifest.name, () => {
      const imported = new Set(sourceFiles(join(dirname(manifestPath), 'src')).flatMap(importedPackages).filter((name) => !builtins.has(name)));
      // An optional peer is loaded by a computed name when present (the trainer's tfjs-node).
      const optionalPeers = optionalPeersOf(manifest);
      // A dependency may be declared to provide a workspace dependency's optional peer (pipeline
      // and kd declare onnxruntime-node so the trainer runs its onnxruntime engine there).
      for (const dependency of Object.keys(manifest.dependencies ?? {})) optionalPeers.push(...optionalPeersOf(byName.get(dependency)).filter((name) => manifest.dependencies?.[name] !== undefined));
      const inlined = manifest.inlinedDependencies ?? [];
      expect(inlined.filter((name) => manifest.devDependencies?.[name] === undefined || manifest.dependencies?.[name] !== undefined), 'inlined but not a devDependency only').toEqual([]);
      const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}), ...inlined]);
      expect([...declared].filter((name) => !imported.has(name) && !optionalPeers.includes(name)).sort(), 'declared but never imported').toEqual([]);
      expect([...imported].filter((name) => !declared.has(name)).sort(), 'imported but not declared').toEqual([]);
    });
  }
});
