// The demo's bundles in public/generated/demo/ (used by `npm run demo` and `npm run build`):
//
// - with a trained model (models/default/model.json, or the folder HYPENCODER_DEMO_MODEL names):
//   the demo corpus data/demo/python-docs.jsonl (the Python 3.11 documentation) indexed with that
//   model into index/, the model copied into model/. Redone when the index is missing or stale:
//   stale = the corpus's or model.json's SHA-256 differs from the ones recorded in demo.json
//   (or the index's manifest names another model). Progress: the index command's bar.
// - without one: the synthetic index of today (random vectors, q-nets from the query's hash), and
//   the page says so.
//
// demo.json (written last, atomically) records what was built: the kind, the model, the corpus and
// the example queries; the page reads it to name them and show the chips.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { writeFileAtomicSync } from '../src/cli/atomicWrite.ts';
import { DEFAULT_STORAGE_DTYPE } from '../src/core/vectorStorage.ts';
import { isMain, orExit } from './lib/main.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const demoDir = join(root, 'public', 'generated', 'demo');
export const corpusFile = join(root, 'data', 'demo', 'python-docs.jsonl');
export const corpusStatsFile = join(root, 'data', 'demo', 'corpus-stats.json');
export const examplesFile = join(root, 'data', 'demo', 'example-queries.json');
export const stampFile = join(demoDir, 'demo.json');
const STAMP_FORMAT = 'hypencoder-demo';
/** The lexical scheme the demo index must have to count as up to date (the indexer's default, LEXICAL_SCHEME_CHUNKED; its documents part came with it). */
export const LEXICAL_SCHEME_WRITTEN = 'bm25-chunked-v2';

/** demo.json: what was built. */
export interface DemoStamp {
  format: typeof STAMP_FORMAT;
  kind: 'corpus' | 'synthetic';
  model: { id: string | null; sha256: string | null; dim?: number; maxDocumentTokens?: number; from?: string };
  corpus: {
    name: string;
    documents: number | null;
    passages?: number;
    package?: string | null;
    license?: string | null;
    home?: string | null;
    file?: string;
    sha256?: string;
  };
  index?: { dtype: string; bytes: number; seconds: number; encodeSeconds: number };
  examples?: string[];
}

/** The fields of an index manifest this script looks at. */
interface ManifestPart {
  synthetic?: boolean;
  doc_count?: number;
  model?: { sha256?: string };
  lexical?: { scheme?: string };
  storage?: { dtype?: string };
}

/** The fields of model.json this script looks at. */
interface ModelPart {
  id?: string;
  max_document_tokens?: number;
  files?: { query_encoder?: { path?: unknown }; vocab?: { path?: unknown } };
}

/** corpus-stats.json (scripts/build-demo-corpus.ts): the fields demo.json quotes. */
interface CorpusStatsPart {
  name?: string;
  package?: string | null;
  license?: string | null;
  home?: string | null;
}

/** The model the demo uses when it is there: HYPENCODER_DEMO_MODEL, else models/default/. */
export function demoModelDir(): string {
  return process.env.HYPENCODER_DEMO_MODEL ? resolve(process.env.HYPENCODER_DEMO_MODEL) : join(root, 'models', 'default');
}

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The file's JSON, or null when it is missing or not JSON. */
function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomicSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Example query strings from data/demo/example-queries.json (validated: file and entry named on error). */
export function exampleQueries(): string[] {
  const data = readJson<{ examples?: unknown }>(examplesFile);
  if (!data || !Array.isArray(data.examples)) throw new Error(`${relative(root, examplesFile)}: not JSON with an "examples" array`);
  return data.examples.map((e: { query?: unknown } | null, i) => {
    if (!e || typeof e.query !== 'string' || !e.query.trim())
      throw new Error(`${relative(root, examplesFile)}: examples[${i}].query must be a non-empty string`);
    return e.query;
  });
}

/** Why the real demo index must be (re)built, or null when it is up to date. */
export function staleReason(modelDir = demoModelDir()): string | null {
  const stamp = readJson<DemoStamp>(stampFile);
  const manifest = readJson<ManifestPart>(join(demoDir, 'index', 'manifest.json'));
  if (!manifest) return 'no demo index yet';
  if (!stamp || stamp.format !== STAMP_FORMAT || stamp.kind !== 'corpus') return 'the demo index is the synthetic one';
  const modelSha = sha256File(join(modelDir, 'model.json'));
  if (stamp.model?.sha256 !== modelSha || manifest.model?.sha256 !== modelSha)
    return `the model changed (model.json sha256 ${modelSha.slice(0, 12)}…, index built with ${String(stamp.model?.sha256).slice(0, 12)}…)`;
  const servedModel = join(demoDir, 'model', 'model.json');
  if (!existsSync(servedModel) || sha256File(servedModel) !== modelSha) return 'the served copy of the model is missing or differs';
  const corpusSha = sha256File(corpusFile);
  if (stamp.corpus?.sha256 !== corpusSha)
    return `the corpus changed (sha256 ${corpusSha.slice(0, 12)}…, index built from ${String(stamp.corpus?.sha256).slice(0, 12)}…)`;
  // The indexer writes this lexical scheme (src/core/lexical.ts LEXICAL_SCHEME); an index from before it changed is rebuilt.
  if (manifest.lexical?.scheme !== LEXICAL_SCHEME_WRITTEN)
    return `the lexical index is ${manifest.lexical?.scheme ?? 'missing'}; the indexer now writes ${LEXICAL_SCHEME_WRITTEN}`;
  if (manifest.storage?.dtype !== DEFAULT_STORAGE_DTYPE)
    return `the vectors are stored as ${manifest.storage?.dtype ?? 'unknown'}; the indexer now stores ${DEFAULT_STORAGE_DTYPE}`;
  return null;
}

/**
 * Copies what the page loads of a model bundle (model.json, the query encoder, the vocabulary; not
 * the document encoder) to public/generated/demo/model: a temporary sibling, then renamed.
 */
function copyModel(modelDir: string): void {
  const model = readJson<ModelPart>(join(modelDir, 'model.json'));
  const files = ['model.json', model?.files?.query_encoder?.path, model?.files?.vocab?.path];
  if (files.some((f) => typeof f !== 'string'))
    throw new Error(`${join(modelDir, 'model.json')}: files.query_encoder.path and files.vocab.path must be strings`);
  const dest = join(demoDir, 'model');
  const tmp = join(demoDir, `.model.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  for (const f of files as string[]) cpSync(join(modelDir, f), join(tmp, f));
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
}

async function ensureCorpusIndex(modelDir: string, log: (s: string) => void): Promise<DemoStamp> {
  if (!existsSync(corpusFile)) throw new Error(`${relative(root, corpusFile)}: missing; rebuild it with \`npm run demo:corpus\` (needs python3.11-doc)`);
  const why = staleReason(modelDir);
  const built = readJson<DemoStamp>(stampFile);
  if (!why && built) return built;
  log(`demo: indexing ${relative(root, corpusFile)} with ${relative(root, modelDir) || modelDir} (${why})`);
  // Loaded here, not at the top: the tests that read this module's constants do not load the indexer.
  const { runIndex } = await import('../src/cli/indexCommand.ts');
  const t0 = performance.now();
  const corpusSha = sha256File(corpusFile);
  const modelSha = sha256File(join(modelDir, 'model.json'));
  const summary = await runIndex(corpusFile, { out: join(demoDir, 'index'), model: modelDir, force: true });
  copyModel(modelDir);
  const stats = readJson<CorpusStatsPart>(corpusStatsFile) ?? {};
  const model = readJson<ModelPart>(join(modelDir, 'model.json')) ?? {};
  const stamp: DemoStamp = {
    format: STAMP_FORMAT,
    kind: 'corpus',
    model: {
      id: model.id ?? null,
      sha256: modelSha,
      dim: summary.dim,
      maxDocumentTokens: model.max_document_tokens,
      from: relative(root, modelDir) || modelDir,
    },
    corpus: {
      name: stats.name ?? 'Python 3.11 documentation',
      package: stats.package ?? null,
      license: stats.license ?? null,
      home: stats.home ?? null,
      file: relative(root, corpusFile),
      sha256: corpusSha,
      documents: summary.passages.documents,
      passages: summary.passages.passages,
    },
    index: {
      dtype: summary.dtype,
      bytes: summary.bundleBytes,
      seconds: +((performance.now() - t0) / 1000).toFixed(1),
      encodeSeconds: +summary.encodeSeconds.toFixed(1),
    },
    examples: exampleQueries(),
  };
  writeJsonAtomic(stampFile, stamp);
  log(`demo: indexed ${stamp.corpus.documents} documents (${stamp.corpus.passages} passages) in ${stamp.index?.seconds} s`);
  return stamp;
}

async function ensureSyntheticIndex(log: (s: string) => void): Promise<DemoStamp> {
  const stamp = readJson<DemoStamp>(stampFile);
  const manifest = readJson<ManifestPart>(join(demoDir, 'index', 'manifest.json'));
  if (manifest?.synthetic === true && stamp?.format === STAMP_FORMAT && stamp.kind === 'synthetic') return stamp;
  const { makeSyntheticIndex } = await import('../src/cli/syntheticIndex.ts');
  // A corpus index left by an earlier model is replaced (its model is gone); a synthetic one is kept.
  if (manifest && manifest.synthetic !== true) log('demo: no model at models/default/; replacing the corpus index with the synthetic one');
  if (manifest?.synthetic !== true) {
    const r = await makeSyntheticIndex(demoDir, { n: 10_000, dim: 128, dtype: 'f16', seed: 1, hiddenLayers: 2, force: true });
    log(`made the synthetic demo index: ${r.manifest.docCount} documents in ${r.indexDir}`);
  }
  const m = readJson<ManifestPart>(join(demoDir, 'index', 'manifest.json'));
  const model = readJson<ModelPart>(join(demoDir, 'model', 'model.json'));
  const out: DemoStamp = {
    format: STAMP_FORMAT,
    kind: 'synthetic',
    model: { id: model?.id ?? null, sha256: m?.model?.sha256 ?? null },
    corpus: { name: 'random vectors (no text corpus)', documents: m?.doc_count ?? null },
  };
  writeJsonAtomic(stampFile, out);
  return out;
}

/** Makes sure public/generated/demo holds the demo's bundles and demo.json; returns demo.json's content. */
export async function ensureDemoIndex({ log = (s: string) => console.log(s) }: { log?: (s: string) => void } = {}): Promise<DemoStamp> {
  const modelDir = demoModelDir();
  if (existsSync(join(modelDir, 'model.json'))) return ensureCorpusIndex(modelDir, log);
  if (process.env.HYPENCODER_DEMO_MODEL) throw new Error(`HYPENCODER_DEMO_MODEL=${process.env.HYPENCODER_DEMO_MODEL}: no model.json there`);
  return ensureSyntheticIndex(log);
}

if (isMain(import.meta.url)) await orExit('demo', () => ensureDemoIndex());
