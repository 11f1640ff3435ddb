#!/usr/bin/env node
// `npm run demo`: makes the demo index if it is missing, then serves the search page.
// Until a trained model ships, the demo index is synthetic (random vectors), and the page says so.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createServer } from 'vite';
import { ensureDemoIndex } from './demoIndex.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

await ensureDemoIndex();
const port = Number(process.env.PORT ?? 5173);
// NO_HMR=1 (the browser tests): no hot reload, so files a test writes under public/ never reload its page.
const hmr = process.env.NO_HMR !== '1';
const server = await createServer({ root, configFile: join(root, 'vite.config.ts'), server: { port, strictPort: true, host: '127.0.0.1', hmr } });
await server.listen();
console.log(`hypencoder-web demo: http://127.0.0.1:${port}/`);
