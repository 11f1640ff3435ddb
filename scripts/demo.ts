// `npm run demo`: makes the demo's bundles if they are missing or stale, then serves the search page.
// With a trained model in models/default/ (or HYPENCODER_DEMO_MODEL=<model dir>), the demo corpus
// (data/demo/python-docs.jsonl, the Python 3.11 documentation) is indexed with it; without one, the
// index is synthetic (random vectors) and the page says so. See scripts/demoIndex.ts.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';
import { ensureDemoIndex } from './demoIndex.ts';
import { orExit } from './lib/main.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const about = await orExit('demo', () => ensureDemoIndex());
const port = Number(process.env.PORT ?? 5173);
// NO_HMR=1 (the browser tests): no hot reload, so files a test writes under public/ never reload its page.
const hmr = process.env.NO_HMR !== '1';
const server = await createServer({ root, configFile: join(root, 'vite.config.ts'), server: { port, strictPort: true, host: '127.0.0.1', hmr } });
await server.listen();
const what =
  about.kind === 'corpus'
    ? `${about.corpus.name} (${about.corpus.passages} passages), model ${about.model.id}`
    : `synthetic index (${about.corpus.documents} random vectors): no model in models/default/`;
console.log(`hypencoder-web demo: http://127.0.0.1:${port}/ — ${what}`);
