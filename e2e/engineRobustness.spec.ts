import { expect, test } from '@playwright/test';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { INDEX_URL, MODEL_URL, randomModelFixture } from './helpers/randomModel.ts';
import { untilServed } from './helpers/served.ts';

// The engine under stress: the IndexedDB file cache, a lost GPU device, overlapping queries.
// Runs the engine on the harness page's main thread (e2e/pages/engine.ts) to reach its internals.
const generated = join(import.meta.dirname, '..', 'public', 'generated');
const DEMO_MODEL = '/generated/demo/model/';

test.beforeEach(async ({ page }) => {
  await page.goto('/e2e/pages/engine.html');
  await page.waitForFunction(() => window.engineHarnessReady === true);
});

test('second load reads every file from IndexedDB, fetches no vector tile, and ranks the same', async ({ page, baseURL }) => {
  const name = 'e2e-cache';
  await rm(join(generated, name), { recursive: true, force: true });
  await cp(join(generated, 'demo'), join(generated, name), { recursive: true });
  try {
    await untilServed(baseURL, `/generated/${name}/model/model.json`);
    await untilServed(baseURL, `/generated/${name}/index/manifest.json`);
    const tileRequests: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes(`/generated/${name}/index/vectors/`)) tileRequests.push(r.url());
    });
    const run = (m: string, x: string) =>
      page.evaluate(
        async ([m, x]) => {
          const e = new window.SearchEngine();
          const info = await e.load(m, x);
          const r = await e.search('cache me if you can', 10);
          return { cache: info.cache, docs: r.hits.map((h) => h.passage) };
        },
        [m, x] as const,
      );
    const first = await run(`/generated/${name}/model/`, `/generated/${name}/index/`);
    expect(first.cache.state).toBe('on');
    expect(first.cache.cachedBytes).toBe(0);
    const fetchedFirst = tileRequests.length;
    expect(fetchedFirst).toBeGreaterThan(0);

    const second = await run(`/generated/${name}/model/`, `/generated/${name}/index/`);
    expect(tileRequests.length, 'tiles fetched on the second load').toBe(fetchedFirst);
    expect(second.cache.networkBytes).toBe(0);
    expect(second.cache.cachedBytes).toBe(first.cache.networkBytes);
    expect(second.docs).toEqual(first.docs);

    // A new index version (here: one vector changed) evicts the old tiles and is fetched anew.
    const tile = join(generated, name, 'index', 'vectors', '00000.bin');
    const bytes = await readFile(tile);
    bytes[0] ^= 0x01;
    await writeFile(tile, bytes);
    const { createHash } = await import('node:crypto');
    const manifestPath = join(generated, name, 'index', 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    manifest.files.find((f: { path: string }) => f.path === 'vectors/00000.bin').sha256 = createHash('sha256').update(bytes).digest('hex');
    await writeFile(manifestPath, JSON.stringify(manifest));
    const third = await run(`/generated/${name}/model/`, `/generated/${name}/index/`);
    expect(third.cache.networkBytes).toBeGreaterThan(0);
    // Only the new version's files remain: the vector tiles and metadata shards a neural search
    // loads (not the neighbor graph, nor the lexical index before a lexical search), keyed by the
    // new manifest's SHA-256, and the model's query encoder and vocabulary when it has them.
    const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
    const indexVersion = sha(JSON.stringify(manifest));
    const modelJson = await readFile(join(generated, name, 'model', 'model.json'));
    const modelFiles = JSON.parse(modelJson.toString()).files ?? {};
    const expected = [
      ...manifest.files
        .filter((f: { kind: string }) => f.kind === 'vectors' || f.kind === 'metadata')
        .map((f: { path: string }) => `file|${indexVersion}|${f.path}`),
      ...[modelFiles.query_encoder?.path, modelFiles.vocab?.path].filter(Boolean).map((p) => `file|${sha(modelJson)}|${p}`),
    ];
    const entries = await page.evaluate(() => window.cacheKeys());
    expect(entries.filter((k) => k.startsWith('file|') && !k.startsWith('file|json|')).sort()).toEqual(expected.sort());
  } finally {
    await rm(join(generated, name), { recursive: true, force: true });
  }
});

test('without IndexedDB (private mode, quota) the engine runs from the network', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(IDBFactory.prototype, 'open', {
      value: () => {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      },
    });
  });
  await page.goto('/e2e/pages/engine.html');
  await page.waitForFunction(() => window.engineHarnessReady === true);
  const r = await page.evaluate(async (m) => {
    const e = new window.SearchEngine();
    const info = await e.load(m, '/generated/demo/index/');
    const res = await e.search('no cache', 5);
    return { cache: info.cache, hits: res.hits.length };
  }, DEMO_MODEL);
  expect(r.cache.state).toBe('off');
  expect(r.cache.reason).toMatch(/quota/i);
  expect(r.hits).toBe(5);
});

test('a newer query wins: the older one, still running, is dropped', async ({ page }) => {
  const r = await page.evaluate(async (m) => {
    const e = new window.SearchEngine();
    await e.load(m, '/generated/demo/index/');
    const [a, b] = await Promise.all([e.search('first query', 10), e.search('second query', 10)]);
    return { a: { superseded: !!a.superseded, hits: a.hits.length }, b: { superseded: !!b.superseded, hits: b.hits.length, query: b.query } };
  }, DEMO_MODEL);
  expect(r.a).toEqual({ superseded: true, hits: 0 });
  expect(r.b).toEqual({ superseded: false, hits: 10, query: 'second query' });
});

test('a lost GPU device mid-session: the engine moves to WASM + a new device and ranks the same', async ({ page, baseURL }) => {
  test.setTimeout(300_000);
  const { queries } = await randomModelFixture(baseURL);
  const r = await page.evaluate(
    async ([m, x, qs]) => {
      const e = new window.SearchEngine();
      const before = await e.load(m, x, undefined, { encoder: 'webgpu', scorer: 'webgpu' });
      const a = [];
      for (const q of qs) a.push((await e.search(q, 10)).hits.map((h) => h.passage));
      e.simulateDeviceLoss();
      await new Promise((res) => setTimeout(res, 100));
      const b = [];
      for (const q of qs) b.push((await e.search(q, 10)).hits.map((h) => h.passage));
      return { before: { backend: before.backend, encoder: before.encoder }, after: e.loaded, a, b };
    },
    [MODEL_URL, INDEX_URL, queries.slice(0, 3)] as const,
  );
  expect(r.before).toEqual({ backend: 'webgpu', encoder: 'webgpu' });
  expect(r.after!.recoveredFrom).toContain('destroyed');
  expect(r.after!.encoder).toBe('wasm');
  expect(r.after!.backend).toBe('webgpu');
  expect(r.b).toEqual(r.a);
});
