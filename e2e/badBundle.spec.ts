import { expect, test } from '@playwright/test';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { untilServed } from './helpers/served.ts';

// Broken copies of the demo bundle, served by the test server; the page must refuse each with a
// message naming the file and the problem, and never show results ranked with it (a damaged
// vector tile is found when the neural half loads: keyword results, from verified files, go on).
const generated = join(import.meta.dirname, '..', 'public', 'generated');
const demo = join(generated, 'demo');

/** `neural`: a file of the neural half, read after keyword search is ready; the page refuses it then and goes on with keywords only. */
type Breakage = { name: string; expect: RegExp; apply: (dir: string) => Promise<void>; neural?: boolean };

async function editJson(file: string, edit: (j: Record<string, any>) => void): Promise<void> {
  const j = JSON.parse(await readFile(file, 'utf8'));
  edit(j);
  await writeFile(file, JSON.stringify(j));
}

const breakages: Breakage[] = [
  {
    name: 'vector tile with one byte flipped',
    expect: /vectors\/00000\.bin: SHA-256 mismatch/,
    neural: true,
    apply: async (dir) => {
      const f = join(dir, 'index', 'vectors', '00000.bin');
      const b = await readFile(f);
      b[100] ^= 0xff;
      await writeFile(f, b);
    },
  },
  {
    name: 'truncated vector tile',
    expect: /vectors\/00000\.bin: truncated/,
    neural: true,
    apply: async (dir) => {
      const f = join(dir, 'index', 'vectors', '00000.bin');
      const b = await readFile(f);
      await writeFile(f, b.subarray(0, b.length - 10));
    },
  },
  {
    name: 'manifest of a newer format version',
    expect: /manifest\.json: format_version 2 is newer than this client supports \(1\)/,
    apply: (dir) => editJson(join(dir, 'index', 'manifest.json'), (j) => (j.format_version = 2)),
  },
  {
    name: 'dimension that does not match the model',
    expect: /manifest\.json: .*dim/,
    apply: async (dir) => {
      // A model of another width, with the manifest re-pointed at it so only the dims disagree.
      const modelJson = join(dir, 'model', 'model.json');
      await editJson(modelJson, (j) => {
        // Every width but the output's wider (a trained model's encoder too, in steps its heads
        // divide): another valid model of the same shape, whatever the demo's is.
        const step = 16 * (j.encoder?.heads ?? 1);
        j.qnet.dims = j.qnet.dims.map((w: number, k: number, all: number[]) => (k === all.length - 1 ? w : w + step));
        if (j.encoder) j.encoder.hidden_size = j.qnet.dims[0];
      });
      const sha = createHash('sha256')
        .update(await readFile(modelJson))
        .digest('hex');
      await editJson(join(dir, 'index', 'manifest.json'), (j) => (j.model.sha256 = sha));
    },
  },
];

for (const [i, b] of breakages.entries()) {
  test(`the page refuses a bundle with a ${b.name}`, async ({ page, baseURL }) => {
    const name = `e2e-broken-${i}`;
    const dir = join(generated, name);
    await rm(dir, { recursive: true, force: true });
    await cp(demo, dir, { recursive: true });
    try {
      await b.apply(dir);
      await untilServed(baseURL, `/generated/${name}/model/model.json`);
      await untilServed(baseURL, `/generated/${name}/index/manifest.json`);
      await page.goto(`/?model=/generated/${name}/model/&index=/generated/${name}/index/`);
      await page.waitForFunction(() => document.body.dataset.ready, undefined, { timeout: 60_000 });
      if (b.neural) {
        // Keyword search was ready from the verified lexical part; the damaged tile is refused when the neural half loads, named on the page.
        expect(await page.evaluate(() => document.body.dataset.ready)).toBe('true');
        await page.getByTestId('search-input').fill('list');
        await expect(page.getByTestId('neural-refused')).toHaveText(b.expect, { timeout: 60_000 });
        await expect(page.getByTestId('semantic-state')).toHaveAttribute('data-state', 'failed');
        await expect(page.locator('ol.results')).toHaveAttribute('data-ranked-by', 'lexical');
        return;
      }
      expect(await page.evaluate(() => document.body.dataset.ready)).toBe('error');
      await expect(page.getByRole('status')).toHaveText(b.expect);
      await expect(page.getByTestId('search-input')).toBeDisabled();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
