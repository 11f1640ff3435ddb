// Test bundles and the ranking oracle for the page tests: top-k by the Float64 CPU reference over
// the vectors read back from disk, and small hand-made synthetic bundles with chosen metadata.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readIndexBundle, readModelBundle } from '../../src/cli/readBundle.ts';
import { syntheticModel } from '../../src/cli/syntheticIndex.ts';
import { writeIndexBundle } from '../../src/cli/writeIndex.ts';
import { serializeModelJson, sha256Hex } from '../../src/core/formats/index.ts';
import { randomVectors, referenceScores, referenceTopK, seededRandom } from '../../src/core/qnet.ts';
import { syntheticQueryWeights } from '../../src/core/syntheticQuery.ts';
import { decodeTiles, encodeVectors } from '../../src/core/vectorStorage.ts';

export const generatedDir = join(import.meta.dirname, '..', '..', 'public', 'generated');
export const demoDir = join(generatedDir, 'demo');

/** The ids the CPU reference ranks first for a query over a synthetic bundle (dir holds model/ and index/). */
export async function referenceTopIds(dir: string, query: string, k: number): Promise<string[]> {
  const model = await readModelBundle(join(dir, 'model'));
  const index = await readIndexBundle(join(dir, 'index'), { model });
  const scores = referenceScores(syntheticQueryWeights(model.model.qnet, query), decodeTiles(index.tiles), index.manifest.docCount);
  return Array.from(referenceTopK(scores, Math.min(k, index.manifest.docCount)).indices, (i) => index.metadata[i].id);
}

export interface TestDoc {
  id: string;
  title: string;
  url: string;
  text: string;
}

/** A synthetic model (q-net from the query's hash) and an index of random vectors with these documents. */
export async function writeSyntheticBundle(dir: string, docs: TestDoc[], dim = 16): Promise<void> {
  const model = syntheticModel(dim, dim, 1);
  const modelText = serializeModelJson(model);
  await mkdir(join(dir, 'model'), { recursive: true });
  await writeFile(join(dir, 'model', 'model.json'), modelText);
  const n = docs.length;
  await writeIndexBundle(join(dir, 'index'), {
    manifestFields: { model: { id: model.id, sha256: await sha256Hex(new TextEncoder().encode(modelText)) }, synthetic: true },
    tiles: [encodeVectors(randomVectors(n, dim, seededRandom(7)), n, dim, 'f32')],
    metadata: [docs],
    force: true,
  });
}
