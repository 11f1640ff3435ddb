// Builds the benchmark page as a self-contained static folder, for a machine that has a browser and
// Python but no Node or npm (a GPU machine, say): `npx tsx bench/benchStatic.ts --out DIR`.
// DIR gets the built bench/pages/bench.html, onnxruntime-web's WebGPU wasm files at the path the page
// loads them from, serve.py (serves DIR with COOP/COEP, launches the browser on bench.html?auto and
// writes the JSON lines it POSTs) and a bench-config.json with the grid `npm run bench` runs.
// There: `python3 DIR/serve.py --browser /path/to/chromium --out results.jsonl`.
import { copyFile, mkdir, readdir, rm, writeFile, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ORT_FILES = [
  'ort-wasm-simd-threaded.jsep.mjs',
  'ort-wasm-simd-threaded.jsep.wasm',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
];
const PAPER = [768, 768, 768, 768, 768, 768, 768, 1];
const SMALL = [256, 256, 256, 1];

const { values } = parseArgs({ options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help || !values.out) {
  console.error('usage: npx tsx bench/benchStatic.ts --out DIR');
  process.exit(values.help ? 0 : 2);
}
const out = resolve(values.out);
const tmp = `${out}.tmp-${process.pid}`;

const { build } = await import('vite');
try {
  await buildInto(tmp);
} catch (e) {
  await rm(tmp, { recursive: true, force: true });
  console.error(`bench-static: ${e instanceof Error ? e.stack : e}`);
  process.exit(1);
}
if (existsSync(out)) await rm(out, { recursive: true });
await rename(tmp, out);
console.error(`bench-static: ${out} (page bench/pages/bench.html?auto, serve.py, bench-config.json)`);

/** The static site in `dir`: the built page, the wasm files it loads, serve.py and the default grid. */
async function buildInto(dir: string) {
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    worker: { format: 'es' },
    build: {
      target: 'es2022',
      outDir: dir,
      emptyOutDir: true,
      rollupOptions: { input: { bench: resolve(root, 'bench/pages/bench.html') } },
    },
  });
  // The page sets ort.env.wasm.wasmPaths to /node_modules/onnxruntime-web/dist/: the copies Vite emitted
  // next to the bundle are never fetched.
  for (const f of await readdir(resolve(dir, 'assets'))) if (f.endsWith('.wasm')) await rm(resolve(dir, 'assets', f));
  const ortDir = resolve(dir, 'node_modules/onnxruntime-web/dist');
  await mkdir(ortDir, { recursive: true });
  for (const f of ORT_FILES) await copyFile(resolve(root, 'node_modules/onnxruntime-web/dist', f), resolve(ortDir, f));
  await copyFile(resolve(root, 'bench/benchStatic/serve.py'), resolve(dir, 'serve.py'));
  const configs: { N: number; dims: number[] }[] = [];
  for (const dims of [PAPER, SMALL]) for (const N of [10000, 100000]) configs.push({ N, dims });
  await writeFile(resolve(dir, 'bench-config.json'), `${JSON.stringify({ peak: true, configs }, null, 1)}\n`);
}
