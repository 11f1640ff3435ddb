// The house rule, checked: src/ imports run one way (core ← gpu ← worker ← lib ← ui; cli imports core
// and cli only), nothing in src/ reaches into bench/, scripts/, e2e/ or tests/, and no file imports
// itself back through a cycle. Reads the sources as text: relative import specifiers only.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const LAYERS: Record<string, string[]> = {
  core: ['core'],
  gpu: ['core', 'gpu'],
  worker: ['core', 'gpu', 'worker'],
  lib: ['core', 'gpu', 'worker', 'lib'],
  ui: ['core', 'gpu', 'worker', 'lib', 'ui'],
  cli: ['core', 'cli'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative specifiers of static imports, re-exports and dynamic imports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g))
    out.push(m[1] ?? m[2]);
  return out;
}

const files = sourceFiles(path.join(ROOT, 'src'));
const edges = new Map<string, string[]>();
for (const f of files) {
  edges.set(
    f,
    importsOf(f).map((s) => path.resolve(path.dirname(f), s.replace(/\?raw$/, ''))),
  );
}
const rel = (p: string) => path.relative(ROOT, p);

describe('src layering', () => {
  it('reads the sources', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(edges.get(path.join(ROOT, 'src/worker/searchEngine.ts'))?.length).toBeGreaterThan(3);
  });

  it('imports only from its own layer or those below it, and shaders', () => {
    const bad: string[] = [];
    for (const [from, targets] of edges) {
      const layer = rel(from).split(path.sep)[1];
      for (const to of targets) {
        const [top, second] = rel(to).split(path.sep);
        if (top === 'shaders' && layer === 'gpu') continue;
        if (top !== 'src' || !LAYERS[layer]?.includes(second)) bad.push(`${rel(from)} → ${rel(to)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('has no import cycle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, stack: string[]) => {
      state.set(f, 'open');
      for (const to of edges.get(f) ?? []) {
        if (!edges.has(to)) continue;
        if (state.get(to) === 'open') cycles.push([...stack.slice(stack.indexOf(to)), to].map(rel).join(' → '));
        else if (!state.has(to)) visit(to, [...stack, to]);
      }
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f, [f]);
    expect(cycles).toEqual([]);
  });
});
