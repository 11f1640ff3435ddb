// Several index bundles searched as one in the browser (issue 18 item 3): a word corpus indexed with
// the shipped model as one bundle and as 3 shards (`index --shards 3`); the shards served by two
// static servers on two ports (two origins, CORS), the model by the test server. The page's engine
// over [A/00000/, A/00001/, B/00002/], and over A/shards.json, ranks every query in every mode as it
// ranks the single bundle (the same documents and scores), and lexical as the Node engine does;
// createSearch({ index: [...] }) gives the same hits; a shard changed after its list was written is refused.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { EVAL_PAGE } from '../src/cli/browserEngine.ts';
import { runIndex } from '../src/cli/indexCommand.ts';
import { DEFAULT_MODEL_DIR } from '../src/cli/modelDir.ts';
import { NodeSearchEngine } from '../src/cli/nodeEngine.ts';
import type { SearchMode } from '../src/core/search.ts';
import { evaluate, parseQrels } from '../src/core/metrics.ts';
import { untilServed } from './helpers/served.ts';

const publicDir = join(import.meta.dirname, '..', 'public', 'generated', 'e2e-shards');
const MODEL_URL = '/generated/e2e-shards/model/';
const WORDS =
  'wing lift drag flow heat boundary layer shock pressure mach supersonic laminar turbulent nozzle panel flutter buckling cylinder shell plate cone jet wake vortex'.split(
    ' ',
  );
const QUERIES = [
  'supersonic flutter of panels',
  'shock wave boundary layer',
  'heat transfer in laminar flow',
  'vortex wake of a wing',
  'the of and',
  'turbulant nozle',
];
const MODES: SearchMode[] = ['lexical', 'neural', 'hybrid'];

let root: string;
let servers: Server[] = [];
let origins: string[] = [];
let node: NodeSearchEngine;

/** A static file server with CORS, as a CDN holding a bundle would be; counts what it served. */
function staticServer(dir: string, served: string[]): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      served.push(path);
      res.setHeader('Content-Type', extname(file) === '.json' ? 'application/json' : 'application/octet-stream');
      res.end(readFileSync(file));
    } catch {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })),
  );
}

const servedBy: string[][] = [[], []];

test.beforeAll(async () => {
  test.setTimeout(300_000);
  root = mkdtempSync(join(tmpdir(), 'hypencoder-e2e-shards-'));
  rmSync(publicDir, { recursive: true, force: true });
  mkdirSync(publicDir, { recursive: true });
  cpSync(DEFAULT_MODEL_DIR, join(publicDir, 'model'), { recursive: true });
  // Documents long enough to be split into passages by the model's 128-token limit.
  const lines = Array.from({ length: 120 }, (_, i) => {
    const text = Array.from({ length: 30 + ((i * 37) % 170) }, (_, k) => WORDS[(i * 7 + k * k + 3 * k) % WORDS.length]).join(' ');
    return JSON.stringify({ id: `d${i}`, title: `${WORDS[i % WORDS.length]} note ${i}`, text, part: i % 3 === 0 ? 'third' : 'rest', n: i });
  });
  writeFileSync(join(root, 'corpus.jsonl'), lines.join('\n'));
  const facets = { filterField: ['part'], sortField: ['n'] };
  await runIndex(join(root, 'corpus.jsonl'), { out: join(root, 'single'), model: DEFAULT_MODEL_DIR, quiet: true, ...facets });
  await runIndex(join(root, 'corpus.jsonl'), { out: join(root, 'shards'), model: DEFAULT_MODEL_DIR, shards: 3, quiet: true, ...facets });
  // A bundle of another model: the shipped one under another id (another model.json).
  cpSync(DEFAULT_MODEL_DIR, join(root, 'other-model'), { recursive: true });
  const otherJson = join(root, 'other-model', 'model.json');
  writeFileSync(otherJson, readFileSync(otherJson, 'utf8').replace(/"id": "([^"]+)"/, '"id": "$1-copy"'));
  writeFileSync(join(root, 'five.jsonl'), lines.slice(0, 5).join('\n'));
  await runIndex(join(root, 'five.jsonl'), { out: join(root, 'other'), model: join(root, 'other-model'), quiet: true });
  // The same shards, the second manifest changed after the list was written.
  cpSync(join(root, 'shards'), join(root, 'changed'), { recursive: true });
  writeFileSync(join(root, 'changed', '00001', 'manifest.json'), `${readFileSync(join(root, 'changed', '00001', 'manifest.json'), 'utf8')} `);
  const started = await Promise.all(servedBy.map((list) => staticServer(root, list)));
  servers = started.map((s) => s.server);
  origins = started.map((s) => s.origin);
  await untilServed(undefined, `${MODEL_URL}model.json`);
  node = await NodeSearchEngine.open(join(root, 'single'), DEFAULT_MODEL_DIR);
});

test.afterAll(async () => {
  await node?.close();
  for (const s of servers) s.close();
  if (root) rmSync(root, { recursive: true, force: true });
  rmSync(publicDir, { recursive: true, force: true });
});

type Hit = { docId: string; score: number; passage: number };

async function evalPage(page: Page) {
  await page.goto(EVAL_PAGE);
  await page.waitForFunction(() => window.evalPageReady === true);
  return async (index: string | string[], mode: SearchMode): Promise<Record<string, Hit[]>> => {
    const r = await page.evaluate(([m, x, qs, mo]) => window.evalSearch(m, x, qs, mo, 10, true), [
      MODEL_URL,
      index,
      QUERIES.map((text, i) => ({ id: String(i), text })),
      mode,
    ] as const);
    return Object.fromEntries(Object.entries(r.results).map(([q, hits]) => [q, hits.map((h) => ({ docId: h.docId, score: h.score, passage: h.passage }))]));
  };
}

test('3 shards from 2 origins rank as the single bundle in every mode', async ({ page }) => {
  const search = await evalPage(page);
  const [a, b] = origins;
  const threeUrls = [`${a}/shards/00000/`, `${a}/shards/00001/`, `${b}/shards/00002/`];
  for (const mode of MODES) {
    const single = await search(`${a}/single/`, mode);
    expect(await search(threeUrls, mode), mode).toEqual(single);
    expect(await search(`${a}/shards/shards.json`, mode), `${mode}, the shard list`).toEqual(single);
    if (mode === 'lexical') {
      for (const [i, q] of QUERIES.entries()) {
        const want = (await node.search(q, 'lexical', 10)).hits.map((h) => h.docId);
        expect(
          single[String(i)].map((h) => h.docId),
          q,
        ).toEqual(want);
      }
    }
  }
  // The third shard came from the second origin; the first two and the list from the first.
  expect(servedBy[1].some((p) => p.startsWith('/shards/00002/'))).toBe(true);
  expect(servedBy[1].some((p) => p.startsWith('/shards/00000/'))).toBe(false);
  expect(servedBy[0].includes('/shards/shards.json')).toBe(true);
});

test('createSearch({ index: [...] }) searches the shards as one: hits, filters, facet counts, sorting', async ({ page }) => {
  await evalPage(page);
  const [a, b] = origins;
  const urls = [`${a}/shards/00000/`, `${a}/shards/00001/`, `${b}/shards/00002/`];
  const run = (index: string | string[]) =>
    page.evaluate(
      async ([model, index, query]) => {
        const { createSearch } = await import('/src/lib/search.ts' as string);
        const s = createSearch({ model, index, preload: 'lexical' });
        await s.ready;
        const pick = (r: { hits: Hit[]; facets?: unknown }) => ({
          hits: r.hits.map((h) => ({ docId: h.docId, score: h.score, passage: h.passage })),
          facets: r.facets,
        });
        const out = {
          plain: pick(await s.search(query, { mode: 'lexical', k: 10 })),
          filtered: pick(await s.search(query, { mode: 'lexical', k: 10, filters: { part: ['third'] } })),
          sorted: pick(await s.search(query, { mode: 'lexical', k: 10, sort: { by: 'n', order: 'desc' } })),
          overview: await s.facets(),
        };
        s.dispose();
        return out;
      },
      [MODEL_URL, index, QUERIES[1]] as const,
    );
  const single = await run(`${a}/single/`);
  expect(single.filtered.hits.length).toBeGreaterThan(0);
  expect(single.overview.filters.part.third).toBe(40);
  expect(await run(urls)).toEqual(single);
});

test('a shard changed after its list was written, or a bundle of another model, is refused, naming it', async ({ page }) => {
  const search = await evalPage(page);
  await expect(search([`${origins[0]}/shards/00000/`, `${origins[1]}/other/`], 'lexical')).rejects.toThrow(
    /\/other\/ was built with model "hypencoder-small-glove-copy" .* but .*\/shards\/00000\/ with "hypencoder-small-glove"/,
  );
  await expect(search(`${origins[0]}/changed/shards.json`, 'lexical')).rejects.toThrow(
    /shards\[1\] 00001\/manifest\.json hashes to [0-9a-f]{64}, but the list names [0-9a-f]{64}: the shard was changed/,
  );
});

test('all of Cranfield in 3 shards from 2 origins: every query ranks as the single bundle in all three modes, the same nDCG@10', async ({ page }) => {
  test.setTimeout(900_000);
  const cranfield = join(import.meta.dirname, '..', '..', 'shared', 'data', 'cranfield');
  const data = existsSync(join(cranfield, 'corpus.jsonl')) ? cranfield : undefined;
  test.skip(!data, 'the Cranfield collection (../shared/data/cranfield) is not on this machine');
  // Cranfield is evaluation-only data: it is used here as a corpus whose sharded ranking must equal
  // the single bundle's, never to choose anything.
  await runIndex(join(data!, 'corpus.jsonl'), { out: join(root, 'cran-single'), model: DEFAULT_MODEL_DIR, quiet: true });
  await runIndex(join(data!, 'corpus.jsonl'), { out: join(root, 'cran-shards'), model: DEFAULT_MODEL_DIR, shards: 3, quiet: true });
  const queries = readFileSync(join(data!, 'queries.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { id: string; text: string });
  const qrels = parseQrels(readFileSync(join(data!, 'qrels.tsv'), 'utf8'), 'qrels.tsv');
  await page.goto(EVAL_PAGE);
  await page.waitForFunction(() => window.evalPageReady === true);
  const run = async (index: string | string[], mode: SearchMode) => {
    const r = await page.evaluate(([m, x, qs, mo]) => window.evalSearch(m, x, qs, mo, 10), [MODEL_URL, index, queries, mode] as const);
    return Object.fromEntries(Object.entries(r.results).map(([q, hits]) => [q, hits.map((h) => ({ docId: h.docId, score: h.score }))]));
  };
  const [a, b] = origins;
  const shards = [`${a}/cran-shards/00000/`, `${b}/cran-shards/00001/`, `${a}/cran-shards/00002/`];
  const ndcg = (runs: Record<string, { docId: string }[]>) =>
    evaluate(new Map(Object.entries(runs).map(([q, hits]) => [q, hits.map((h) => h.docId)])), qrels).mean['ndcg@10'];
  for (const mode of MODES) {
    const single = await run(`${a}/cran-single/`, mode);
    const sharded = await run(shards, mode);
    expect(Object.keys(single).length, mode).toBe(queries.length);
    let same = 0;
    for (const q of Object.keys(single)) {
      expect(
        sharded[q].map((h) => h.docId),
        `${mode}, query ${q}`,
      ).toEqual(single[q].map((h) => h.docId));
      same++;
    }
    expect(ndcg(sharded).toFixed(3), mode).toBe(ndcg(single).toFixed(3));
    console.log(
      `cranfield shards: ${mode}: ${same}/${queries.length} queries with the single bundle's top 10; nDCG@10 ${ndcg(single).toFixed(4)} single, ${ndcg(sharded).toFixed(4)} 3 shards on 2 origins`,
    );
  }
  expect(servedBy[1].some((p) => p.startsWith('/cran-shards/00001/'))).toBe(true);
});
