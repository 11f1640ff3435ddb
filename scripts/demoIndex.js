#!/usr/bin/env node
// Makes the synthetic demo index in public/generated/demo if it is missing (used by `npm run demo`
// and `npm run build`). Until a trained model ships, the demo index is random vectors, and the page says so.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { register } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const demoDir = join(root, 'public', 'generated', 'demo');

export async function ensureDemoIndex() {
  if (existsSync(join(demoDir, 'index', 'manifest.json'))) return;
  register();
  const { makeSyntheticIndex } = await import('../src/cli/syntheticIndex.ts');
  const r = await makeSyntheticIndex(demoDir, { n: 10_000, dim: 128, dtype: 'f16', seed: 1, hiddenLayers: 2, force: true });
  console.log(`made the synthetic demo index: ${r.manifest.docCount} documents in ${r.indexDir}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await ensureDemoIndex();
