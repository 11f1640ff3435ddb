// Lazy-loading fields of manifest.json (src/core/formats/chunkHashes.ts, src/cli/lazyBundle.ts):
// per-chunk SHA-256 of vector tiles and graph shards, graph.entry_points.
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIndexManifest, sha256Hex } from '../src/core/formats/index.ts';
import { chunkByteRange, computeChunkHashes, readLazyLayout } from '../src/core/formats/chunkHashes.ts';
import { writeScaleBundle } from '../bench/scaleIndex.ts';
import { addLazyFields } from '../src/cli/lazyBundle.ts';
import { randomVectors, seededRandom } from '../src/core/qnet.ts';
import { exactKnnGraph } from '../src/core/knn.ts';

async function bundle(): Promise<{ dir: string; index: string; json: Record<string, any> }> {
  const dir = await mkdtemp(join(tmpdir(), 'chunks-'));
  const n = 300;
  const d = 8;
  const v = randomVectors(n, d, seededRandom(1));
  await writeScaleBundle(join(dir, 'b'), {
    vectors: v,
    n,
    dim: d,
    graphRows: exactKnnGraph(v, n, d, 4),
    degree: 4,
    entryPoints: [0, 5, 9],
    tileDocs: 128,
    chunkDocs: 50,
  });
  const index = join(dir, 'b', 'index');
  return { dir, index, json: JSON.parse(await readFile(join(index, 'manifest.json'), 'utf8')) };
}

describe('chunk hashes', () => {
  it('hash exactly the rows of each chunk; the last chunk is short', async () => {
    const data = Uint8Array.from({ length: 7 * 12 }, (_, i) => i);
    const h = await computeChunkHashes(data, 7, 12, 3);
    expect(h).toEqual([await sha256Hex(data.subarray(0, 36)), await sha256Hex(data.subarray(36, 72)), await sha256Hex(data.subarray(72, 84))]);
    const entry = { path: 'x', kind: 'vectors' as const, bytes: 84, sha256: '', firstDoc: 0, docCount: 7 };
    expect(chunkByteRange({ entry, rowBytes: 12, chunkDocs: 3 }, 2)).toEqual({ start: 72, end: 84 });
  });

  it('a written bundle has a lazy layout whose hashes match the files', async () => {
    const { dir, index, json } = await bundle();
    try {
      const m = parseIndexManifest(JSON.stringify(json));
      const { layout, reason } = readLazyLayout(json, m);
      expect(reason).toBe('');
      expect(layout!.vectors.map((f) => f.sha256.length)).toEqual([3, 3, 1]); // tiles of 128, 128, 44 rows; chunks of 50
      expect(Array.from(layout!.entryPoints)).toEqual([0, 5, 9]);
      const f = layout!.graph[1];
      const bytes = new Uint8Array(await readFile(join(index, f.entry.path)));
      const { start, end } = chunkByteRange(f, 2);
      expect(await sha256Hex(bytes.subarray(start, end))).toBe(f.sha256[2]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an old manifest stays valid and is simply not lazy; malformed fields are refused by name', async () => {
    const { dir, json } = await bundle();
    try {
      const old = structuredClone(json);
      for (const f of old.files) delete f.chunks;
      expect(readLazyLayout(old, parseIndexManifest(JSON.stringify(old))).reason).toMatch(/vectors\/00000\.bin has no chunk hashes/);
      const noEntries = structuredClone(json);
      delete noEntries.graph.entry_points;
      expect(readLazyLayout(noEntries, parseIndexManifest(JSON.stringify(noEntries))).reason).toBe('graph.entry_points is missing');
      const m = parseIndexManifest(JSON.stringify(json));
      const short = structuredClone(json);
      short.files[0].chunks.sha256.pop();
      expect(() => readLazyLayout(short, m)).toThrow('manifest.json: files[0].chunks.sha256 must list ceil(doc_count / docs) = 3 hashes, got 2');
      const bad = structuredClone(json);
      bad.files[1].chunks.sha256[1] = 'XYZ';
      expect(() => readLazyLayout(bad, m)).toThrow('manifest.json: files[1].chunks.sha256[1] must be 64 lowercase hex digits, got "XYZ"');
      const zero = structuredClone(json);
      zero.files[0].chunks.docs = 0;
      expect(() => readLazyLayout(zero, m)).toThrow('manifest.json: files[0].chunks.docs');
      const meta = structuredClone(json);
      const i = meta.files.findIndex((f: { kind: string }) => f.kind === 'metadata');
      meta.files[i].chunks = { docs: 10, sha256: [] };
      expect(() => readLazyLayout(meta, m)).toThrow(
        `manifest.json: files[${i}].chunks is only for files of kind vectors or graph, this one has kind "metadata"`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('addLazyFields refuses a data file whose bytes differ from the manifest, naming it', async () => {
    const { dir, index } = await bundle();
    try {
      const p = join(index, 'graph', '00001.bin');
      const b = await readFile(p);
      b[0] ^= 1;
      await writeFile(p, b);
      await expect(addLazyFields(index, { chunkDocs: 64 })).rejects.toThrow('graph/00001.bin: SHA-256 mismatch');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
