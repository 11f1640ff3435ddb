// A dense retriever as a zero-layer q-net (issue 19 item 3), through the product: a randomly
// initialized sentence-transformers folder (training/make_random_dense.py, small shape: 2 layers,
// 64 wide, mean pooling, normalized, "query: " / "passage: " prompts) converted with
// `convert --kind dense`, indexed (lazily loadable too), served by a plain static server and searched
// by a bare <hypencoder-search>: the neural top 10 on the WebGPU scorer and on the CPU scorer equals
// the CLI's Float64 reference (`--scorer reference`: the brute-force inner product of the stored
// vectors with the query embedding), hybrid equals the CLI's hybrid, and approximate="on" walks as
// the CLI's --approximate does.
import { expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CountingServer, startCountingServer } from '../bench/lib/countingServer.ts';
import { elementPage, openElement } from './helpers/elementSite.ts';

const repo = join(import.meta.dirname, '..');
let work = '';
let site = '';
let server: CountingServer;
const QUERIES = ['how do I read a file line by line', 'sort a list of dictionaries by a key', 'regular expression groups'];

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const node = (args: string[]) => run(process.execPath, args);

interface CliHit {
  id: string;
  score: number;
}

function cliSearch(query: string, mode: string, extra: string[] = []): CliHit[] {
  const hb = join(site, 'hypencoder');
  const out = node([
    'bin/hypencoder-web.js',
    'search',
    '-i',
    join(hb, 'index'),
    '--model',
    join(hb, 'model'),
    '--mode',
    mode,
    '-k',
    '10',
    '--json',
    ...extra,
    query,
  ]);
  return (JSON.parse(out) as { hits: CliHit[] }).hits;
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(300_000);
  work = mkdtempSync(join(tmpdir(), 'hypencoder-dense-'));
  site = join(work, 'site');
  const hb = join(site, 'hypencoder');
  mkdirSync(site);
  run('/usr/bin/python3', [
    'training/make_random_dense.py',
    join(work, 'st'),
    '--shape',
    'small',
    '--query-prompt',
    'query: ',
    '--document-prompt',
    'passage: ',
    '--seed',
    '11',
  ]);
  node([join(repo, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'vite.lib.config.ts', '--outDir', hb, '--emptyOutDir', '--logLevel', 'warn']);
  node(['bin/hypencoder-web.js', 'convert', join(work, 'st'), '--kind', 'dense', '--out', join(hb, 'model'), '--id', 'dense-small-random']);
  const lines = readFileSync(join(repo, 'data/demo/python-docs.jsonl'), 'utf8').split('\n').slice(0, 600);
  writeFileSync(join(work, 'docs.jsonl'), `${lines.join('\n')}\n`);
  node([
    'bin/hypencoder-web.js',
    'index',
    join(work, 'docs.jsonl'),
    '--model',
    join(hb, 'model'),
    '--out',
    join(hb, 'index'),
    '--long',
    'truncate',
    '--dtype',
    'f32',
    '--locality',
    '--chunk-docs',
    '64',
    '-q',
  ]);
  writeFileSync(join(site, 'gpu.html'), elementPage('mode="neural" backend="webgpu" approximate="off"'));
  writeFileSync(join(site, 'cpu.html'), elementPage('mode="neural" backend="cpu" approximate="off"'));
  writeFileSync(join(site, 'hybrid.html'), elementPage('backend="cpu" approximate="off"'));
  writeFileSync(join(site, 'walk.html'), elementPage('mode="neural" backend="cpu" approximate="on"'));
  server = await startCountingServer(site);
});

test.afterAll(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const open = (page: Page, path: string) => openElement(page, `${server.url.replace(/\/$/, '')}/${path}`);

/**
 * The page's top 10 against the Float64 oracle's: the same ids in the same order, except that two
 * neighbours whose oracle scores differ by less than float32's error on a 64-wide inner product of
 * unit vectors (1e-6; scores here are cosines of about 0.8–0.95) may come either way.
 */
function expectOracleOrder(got: string[], oracle: CliHit[], q: string) {
  expect(new Set(got), q).toEqual(new Set(oracle.map((h) => h.id)));
  for (let i = 0; i < got.length; i++) {
    if (got[i] === oracle[i].id) continue;
    const j = oracle.findIndex((h) => h.id === got[i]);
    expect(Math.abs(oracle[j].score - oracle[i].score), `${q}: rank ${i + 1}`).toBeLessThan(1e-6);
  }
}

for (const [file, scorer] of [
  ['gpu.html', /WebGPU/],
  ['cpu.html', /CPU/],
] as const) {
  test(`${file}: the neural top 10 of a dense bundle is the Float64 inner product's`, async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const { element, search } = await open(page, file);
    for (const q of QUERIES) expectOracleOrder(await search(q), cliSearch(q, 'neural', ['--scorer', 'reference']), q);
    await expect(element.getByTestId('backend')).toHaveText(scorer);
    expect(errors).toEqual([]);
  });
}

test('hybrid over a dense bundle ranks as the CLI does', async ({ page }) => {
  const { search } = await open(page, 'hybrid.html');
  for (const q of QUERIES) expect(await search(q, true), q).toEqual(cliSearch(q, 'hybrid').map((h) => h.id));
});

test('approximate="on" over a dense bundle walks as the CLI does, close to the exhaustive top 10', async ({ page }) => {
  const { element, search } = await open(page, 'walk.html');
  let overlap = 0;
  for (const q of QUERIES) {
    const got = await search(q);
    expect(got, q).toEqual(cliSearch(q, 'neural', ['--approximate']).map((h) => h.id));
    const exhaustive = new Set(cliSearch(q, 'neural').map((h) => h.id));
    overlap += got.filter((id) => exhaustive.has(id)).length;
  }
  await expect(element.getByTestId('backend')).toHaveAttribute('title', /graph walk on the CPU scorer/);
  console.log(`dense: walk recall@10 ${(overlap / (10 * QUERIES.length)).toFixed(3)} against the exhaustive top 10`);
  expect(overlap / (10 * QUERIES.length)).toBeGreaterThanOrEqual(0.8);
});
