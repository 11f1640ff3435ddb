#!/usr/bin/env node
// `npm run demo`: makes the demo index if it is missing, then serves the search page.
// Until a trained model ships, the demo index is synthetic (random vectors), and the page says so.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { register } from 'tsx/esm/api';
import { createServer } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demoDir = join(root, 'public', 'generated', 'demo');

register();
if (!existsSync(join(demoDir, 'index', 'manifest.json'))) {
  const { makeSyntheticIndex } = await import('../src/cli/syntheticIndex.ts');
  const r = await makeSyntheticIndex(demoDir, { n: 10_000, dim: 128, dtype: 'f16', seed: 1, hiddenLayers: 2, force: true });
  console.log(`made the synthetic demo index: ${r.manifest.docCount} documents in ${r.indexDir}`);
}
const port = Number(process.env.PORT ?? 5173);
const server = await createServer({ root, configFile: join(root, 'vite.config.ts'), server: { port, strictPort: true, host: '127.0.0.1' } });
await server.listen();
console.log(`hypencoder-web demo: http://127.0.0.1:${port}/`);
