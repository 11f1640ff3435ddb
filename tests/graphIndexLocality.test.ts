// `hypencoder-web index --locality --chunk-docs C`: passages stored in locality order (entry points
// first, then k-means leaves) with everything that refers to a document number following the
// order — vectors, metadata, lexical refs, graph rows, entry points — and per-chunk SHA-256 on the
// vector tiles and graph shards. Checked against a plain index of the same input (same model).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIndexBundle } from '../src/cli/readBundle.ts';
import { computeChunkHashes, readLazyLayout } from '../src/core/formats/chunkHashes.ts';
import { GRAPH_NO_NEIGHBOR, parseIndexManifest } from '../src/core/formats/index.ts';
import { LEXICAL_SCHEME_DOCUMENTS, LexicalRanker, lexicalSearch, loadLexicalIndex } from '../src/core/lexical.ts';
import { documentGroups } from '../src/core/ranking.ts';
import { decodeVectors } from '../src/core/vectorStorage.ts';
import { cli, makeSmallModel } from './helpers/smallModel.ts';

let work: string;
let model: string;
const WORDS =
  'wing lift drag flow heat boundary layer shock pressure mach supersonic laminar turbulent nozzle panel flutter buckling cylinder shell plate'.split(' ');

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'graph-locality-'));
  model = makeSmallModel(work, 4);
  let s = 7;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const lines = Array.from({ length: 90 }, (_, i) => {
    const text = Array.from({ length: 10 + Math.floor(rnd() * 25) }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
    return JSON.stringify({ id: `d${i}`, title: `doc ${i}`, text: i === 41 ? `${text} zanzibar` : text, url: `https://example.org/${i}` });
  });
  writeFileSync(path.join(work, 'c.jsonl'), `${lines.join('\n')}\n`);
}, 180_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function load(dir: string) {
  const idx = await readIndexBundle(dir);
  const all: Float32Array[] = idx.tiles.map((t) => decodeVectors(t));
  const d = idx.manifest.dim;
  const rowOf = (i: number) => {
    let r = i;
    for (const t of all) {
      if (r < t.length / d) return Array.from(t.subarray(r * d, r * d + d));
      r -= t.length / d;
    }
    throw new Error(`row ${i}`);
  };
  const rows = idx.graph.length ? new Uint32Array(idx.graph.flatMap((g) => Array.from(g))) : new Uint32Array(0);
  return { idx, d, rowOf, rows, ids: idx.metadata.map((m) => m.id) };
}

describe('index --locality --chunk-docs', () => {
  it('reorders passages; vectors, metadata, lexical refs, graph and entry points follow; chunk hashes cover the stored bytes', async () => {
    const plain = path.join(work, 'plain');
    const local = path.join(work, 'local');
    // --lexical lunr: the test reads Lunr's refs from its JSON.
    const common = ['--model', model, '--tile-docs', '32', '--graph-method', 'exact', '--graph-degree', '6', '--lexical', 'lunr', '-q'];
    expect(cli(['index', path.join(work, 'c.jsonl'), '--out', plain, ...common]).code).toBe(0);
    const r = cli(['index', path.join(work, 'c.jsonl'), '--out', local, ...common, '--locality', '--entry-points', '5', '--chunk-docs', '10', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.locality.entryPoints).toBeGreaterThanOrEqual(3);
    expect(summary.chunkDocs).toBe(10);

    const a = await load(plain);
    const b = await load(local);
    const n = a.ids.length;
    expect(n).toBe(90);
    // A permutation of the same passages, and not the identity (the layout groups by cluster).
    expect([...b.ids].sort()).toEqual([...a.ids].sort());
    expect(b.ids).not.toEqual(a.ids);
    const oldOf = new Map(a.ids.map((id, i) => [id, i]));
    const newOf = new Map(b.ids.map((id, i) => [id, i]));
    // Each passage keeps its own vector and text.
    for (let i = 0; i < n; i++) {
      const o = oldOf.get(b.ids[i])!;
      expect(b.rowOf(i)).toEqual(a.rowOf(o));
      expect(b.idx.metadata[i].text).toBe(a.idx.metadata[o].text);
    }
    // Graph rows: the same neighbor passages (exact k-NN on the same vectors), renumbered.
    for (let i = 0; i < n; i++) {
      const o = oldOf.get(b.ids[i])!;
      const mine = Array.from(b.rows.subarray(i * 6, i * 6 + 6))
        .filter((x) => x !== GRAPH_NO_NEIGHBOR)
        .map((x) => b.ids[x]);
      const theirs = Array.from(a.rows.subarray(o * 6, o * 6 + 6))
        .filter((x) => x !== GRAPH_NO_NEIGHBOR)
        .map((x) => a.ids[x]);
      expect(new Set(mine)).toEqual(new Set(theirs));
    }
    // Entry points are the first documents.
    const m = b.idx.manifest;
    expect(Array.from(m.graph!.entryPoints!)).toEqual(Array.from({ length: summary.locality.entryPoints }, (_, i) => i));
    // Lexical refs (lunr-doc-1: document numbers, documents in order of their first passage) follow the new order.
    const lex = loadLexicalIndex(readFileSync(path.join(local, 'lexical', 'lunr.json')));
    const hit = lexicalSearch(lex, 'zanzibar')[0];
    const passages = documentGroups(b.idx.metadata).passages[hit.doc];
    expect(passages.map((p) => b.ids[p])).toEqual(['d41']);
    expect(newOf.get('d41')).toBe(passages[0]);
    // Chunk hashes: every vector tile and graph shard, recomputed from the stored bytes.
    const json = JSON.parse(readFileSync(path.join(local, 'manifest.json'), 'utf8'));
    const { layout, reason } = readLazyLayout(parseIndexManifest(JSON.stringify(json)));
    expect(reason).toBe('');
    for (const f of [...layout!.vectors, ...layout!.graph]) {
      expect(f.chunkDocs).toBe(10);
      const bytes = new Uint8Array(readFileSync(path.join(local, f.entry.path)));
      expect(f.sha256).toEqual(await computeChunkHashes(bytes, f.entry.docCount, f.rowBytes, 10));
    }
    // The plain index has none of it.
    expect(readLazyLayout(a.idx.manifest).layout).toBeNull();
    // verify accepts the reordered bundle.
    expect(cli(['verify', local, '--model', model]).code).toBe(0);
  }, 120_000);

  // documentGroups' reordering of passages stored out of order is tested in ingest.test.ts; here the
  // whole path: a split document indexed with --locality, one lexical record, shown by the right passage.
  it('a split document indexed with --locality is one lexical record, its passages in document order', async () => {
    let s = 11;
    const rnd = () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 2147483648;
    };
    const words = (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `s${i}`, title: `short ${i}`, text: words(12) }));
    lines.push(JSON.stringify({ id: 'long', title: 'Long report', text: `alphaword ${words(400)} omegaword` }));
    const input = path.join(work, 'split.jsonl');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const out = path.join(work, 'split-local');
    const r = cli([
      'index',
      input,
      '--out',
      out,
      '--model',
      model,
      '--graph-method',
      'exact',
      '--graph-degree',
      '6',
      '--lexical',
      'lunr',
      '--locality',
      '--entry-points',
      '4',
      '-q',
    ]);
    expect(r.code).toBe(0);
    const { idx, ids } = await load(out);
    const groups = documentGroups(idx.metadata);
    const long = groups.docOf[ids.findIndex((id) => id.startsWith('long#'))];
    const parts = groups.passages[long].map((p) => ids[p]);
    expect(parts.length).toBeGreaterThan(2);
    expect(parts).toEqual(parts.map((_, i) => `long#p${i + 1}`));
    const ranker = new LexicalRanker(loadLexicalIndex(readFileSync(path.join(out, 'lexical', 'lunr.json'))), LEXICAL_SCHEME_DOCUMENTS, idx.metadata, groups);
    for (const [word, want] of [
      ['alphaword', parts[0]],
      ['omegaword', parts.at(-1)],
    ] as const) {
      const hit = ranker.rank(word);
      expect(hit.docs.map((h) => h.doc)).toEqual([long]);
      expect(ids[hit.shownPassage(long)]).toBe(want);
    }
  }, 120_000);

  it('refuses --chunk-docs without entry points and --locality without a graph, writing nothing', () => {
    const out = path.join(work, 'bad');
    const c = cli(['index', path.join(work, 'c.jsonl'), '--model', model, '--out', out, '--chunk-docs', '8']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('--chunk-docs: a lazily loaded index needs graph entry points; add --entry-points N or --locality');
    const g = cli(['index', path.join(work, 'c.jsonl'), '--model', model, '--out', out, '--locality', '--no-graph']);
    expect(g.code).toBe(2);
    expect(g.stderr).toContain('--locality needs the neighbor graph; drop --no-graph');
    expect(() => readFileSync(path.join(out, 'manifest.json'))).toThrow();
  }, 60_000);
});
