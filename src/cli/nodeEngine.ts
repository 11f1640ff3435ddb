// The search engine in Node: the same ranking as the browser engine, computed on the CPU.
// Query → WordPiece ids → query_encoder.onnx (onnxruntime-node) → q-net weights → scores of the
// stored (decoded) vectors, by either scorer:
//   - 'onnx' (default): the q-net as an ONNX graph (src/core/qnetOnnx.ts) run by onnxruntime-node,
//     float32 matrix products on every core — about 50× faster than the reference in JS;
//   - 'reference': the Float64 reference scorer (src/core/qnet.ts), the oracle of every other one.
// BM25 from the bundle's lexical index (src/core/lexicalBundle.ts); hybrid through src/core/fusion.ts. Results are one hit per
// document (best passage). Several bundles (--index repeated, or a shard list) are searched as one
// collection through src/core/bundleUnion.ts: passages and documents numbered bundle after bundle.
import path from 'node:path';
import {
  checkIndexAgainstModel,
  qnetWeightsFromOutputs,
  readDocumentFilters,
  readDocumentSort,
  type DocMetadata,
  type DocumentFilters,
  type DocumentSortKeys,
  type OutputTensor,
} from '../core/formats/index.ts';
import type { ScoredDoc } from '../core/fusion.ts';
import { allowedDocuments, maskKeeps, passageMask, type FacetCounts, type FilterSelection, type SortOrder } from '../core/facets.ts';
import { neuralPassageDepth, rankForMode, type Refinement } from '../core/modeRanking.ts';
import { graphSearch, graphViewOf, productWalkOptions } from '../core/graphSearch.ts';
import { CpuQNetScorer } from '../core/qnetCpu.ts';
import type { QNetWeights } from '../core/qnet.ts';
import type { LexicalRanker, TermCorrection } from '../core/lexical.ts';
import { openLexicalIndex, openLexicalRanker, readsLexical } from '../core/lexicalBundle.ts';
import { LEXICAL_SCHEME_CHUNKED, LexicalRanker as Ranker } from '../core/lexical.ts';
import { PostingsSearcher } from '../core/lexicalScoring.ts';
import { type BundleUnion, UnionLexicalIndex, unionFilters, unionOf, unionSortKeys } from '../core/bundleUnion.ts';
import { referenceScores } from '../core/qnet.ts';
import { QNET_ONNX_INPUT, QNET_ONNX_OUTPUT, buildQNetOnnx } from '../core/qnetOnnx.ts';
import { documentGroups, type DocumentGroups } from '../core/ranking.ts';
import { SEARCH_DEFAULTS, type SearchHit, type SearchMode, type SearchOptions } from '../core/search.ts';
import { BertWordPieceTokenizer } from '../core/tokenizer.ts';
import { decodeVectors } from '../core/vectorStorage.ts';
import { encoderInputText } from '../core/formats/modelBundle.ts';
import { CliError } from './errors.ts';
import { loadModelWithEncoders } from './modelDir.ts';
import { boundQuery, queryCutNotice } from '../core/query.ts';
import { FileSource, lexicalFiles, readVerified, setMembers, type LoadedIndex, type LoadedModel } from './readBundle.ts';
import { isShardListFolder, readIndexSet, type SetBundle } from './indexSet.ts';
import { loadOnnxRuntimeNode } from './onnxRuntime.ts';

type Ort = typeof import('onnxruntime-node');
type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

export interface SearchResult {
  query: string;
  mode: SearchMode;
  hits: SearchHit[];
  /** Hybrid only: the neural weight the fusion gave this query, and the BM25/neural agreement it came from. */
  fusion?: { neuralWeight: number; agreement: number };
  /** Set when the query was cut (src/core/query.ts): to MAX_QUERY_CHARS, or to the model's token limit. */
  notice?: string;
  /** Query words no document holds, and the corpus words searched in their place (typo tolerance). */
  corrections?: TermCorrection[];
  /** Where the index has filters: per key and value, the pages among the query's matches (src/core/facets.ts). */
  facets?: FacetCounts;
  /** --approximate: the passages the graph walk scored. */
  approximate?: { scored: number };
  ms: number;
}

export type NodeScorer = 'onnx' | 'reference';

/** Scores per ONNX run: bounds the [rows, hidden] activations onnxruntime allocates. */
const ONNX_SCORE_ROWS = 65536;

export class NodeSearchEngine {
  scorer: NodeScorer = 'onnx';
  private lexicalRanker: LexicalRanker | null = null;
  /** Why there is no lexical ranker where some bundle has none (named in the refusal). */
  private lexicalMissing: string | null = null;
  private readonly union: BundleUnion;
  private readonly groups: DocumentGroups;
  private vectors: Float32Array | null = null;
  private tokenizer: BertWordPieceTokenizer | null = null;
  private session: Session | null = null;
  private ort: Ort | null = null;

  private constructor(
    readonly bundles: SetBundle[],
    readonly model: LoadedModel | null,
  ) {
    try {
      this.union = unionOf(
        bundles.map((b) => ({ name: b.name, manifest: b.index.manifest, metadata: b.index.metadata, groups: documentGroups(b.index.metadata) })),
      );
    } catch (e) {
      throw new CliError((e as Error).message, 2);
    }
    this.groups = this.union.groups;
  }

  /** The first bundle (the only one, unless several are searched as one). */
  get index(): LoadedIndex {
    return this.bundles[0].index;
  }

  get docs(): DocMetadata[] {
    return this.union.docs;
  }

  /** Passages of every bundle. */
  get passageCount(): number {
    return this.union.docs.length;
  }

  /**
   * `index`: a bundle folder, a folder with a shard list, or several of them searched as one collection.
   * `modelDir` is needed for neural and hybrid search (it must be the model the index was built with).
   */
  static async open(index: string | string[], modelDir: string | null, opts: { scorer?: NodeScorer } = {}): Promise<NodeSearchEngine> {
    const model = modelDir ? await loadModelWithEncoders(modelDir) : null;
    const dirs = typeof index === 'string' ? [index] : index;
    // Several bundles: first that they share one model (naming both where not), then that it is this one.
    const several = dirs.length > 1 || isShardListFolder(dirs[0]);
    let bundles: SetBundle[];
    try {
      bundles = (await readIndexSet(dirs, { model: several ? undefined : (model ?? undefined) })).bundles;
    } catch (e) {
      throw new CliError(`index ${(e as Error).message}`, 2);
    }
    const engine = new NodeSearchEngine(bundles, model);
    for (const b of several && model ? bundles : []) {
      try {
        checkIndexAgainstModel(b.index.manifest, model!.model, model!.modelJsonSha256);
      } catch (e) {
        throw new CliError(`index ${b.name}: ${(e as Error).message}`, 2);
      }
    }
    engine.scorer = opts.scorer ?? 'onnx';
    await engine.openLexical();
    if (model) {
      const ort = await loadOnnxRuntimeNode();
      if (!ort) throw new CliError('onnxruntime-node is not installed (npm ci installs it): it encodes the queries', 3);
      const enc = model.model.encoders!;
      engine.ort = ort;
      engine.session = await ort.InferenceSession.create(path.join(modelDir!, enc.files.queryEncoder.path));
      engine.tokenizer = BertWordPieceTokenizer.fromVocab(new TextDecoder().decode(await readVerified(modelDir!, enc.files.vocab)), {
        lowercase: enc.tokenizer.lowercase,
        stripAccents: enc.tokenizer.stripAccents,
      });
      const d = engine.union.dim;
      engine.vectors = new Float32Array(engine.passageCount * d);
      let row = 0;
      for (const t of bundles.flatMap((b) => b.index.tiles)) {
        engine.vectors.set(decodeVectors(t), row * d);
        row += t.n;
      }
    }
    return engine;
  }

  /** One bundle's lexical index as it is (any scheme); several bundles' chunked indexes as one (UnionLexicalIndex). */
  private async openLexical(): Promise<void> {
    const without = this.bundles.find((b) => !readsLexical(b.index.manifest));
    if (this.bundles.length === 1) {
      const { dir, index } = this.bundles[0];
      if (!without) this.lexicalRanker = await openLexicalRanker(index.manifest, index.metadata, this.groups, lexicalFiles(dir, index), setMembers(dir));
      return;
    }
    if (without) {
      this.lexicalMissing = `${without.name} has no lexical index this version reads (built with --no-lexical?), and lexical and hybrid search need one in every bundle`;
      return;
    }
    const parts: { index: PostingsSearcher; firstDocument: number }[] = [];
    for (const [b, { dir, index, name }] of this.bundles.entries()) {
      const opened = await openLexicalIndex(index.manifest, lexicalFiles(dir, index), setMembers(dir));
      if (!(opened.index instanceof PostingsSearcher))
        throw new CliError(
          `${name}: its lexical scheme ${opened.scheme} is one Lunr index and cannot be searched with other bundles; rebuild it with the default --lexical chunked`,
          2,
        );
      parts.push({ index: opened.index, firstDocument: this.union.parts[b].firstDocument });
    }
    this.lexicalRanker = new Ranker(
      new UnionLexicalIndex(parts),
      LEXICAL_SCHEME_CHUNKED,
      this.docs,
      this.groups,
      `the lexical indexes of ${this.bundles.length} bundles`,
    );
  }

  hasLexical(): boolean {
    return this.lexicalRanker !== null;
  }

  /** The query's q-net (the model's query encoder through onnxruntime-node). */
  private async queryWeights(query: string): Promise<QNetWeights> {
    if (!this.session || !this.model || !this.tokenizer || !this.ort) throw new CliError('neural search needs the model: pass --model <dir>', 2);
    const enc = this.model.model.encoders!;
    const { ids } = this.tokenizer.encode(encoderInputText(enc, 'query', query), enc.maxQueryTokens);
    const shape = [1, ids.length];
    const out = await this.session.run({
      input_ids: new this.ort.Tensor('int64', BigInt64Array.from(ids, BigInt), shape),
      attention_mask: new this.ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), shape),
    });
    return qnetWeightsFromOutputs(this.model.model, out as unknown as Record<string, OutputTensor>);
  }

  /**
   * The walk's best `depth` passages (src/core/graphSearch.ts, the browser's walk with its defaults),
   * scored by the CPU scorer the browser's CPU walk uses, so both give the same passages.
   */
  async walkPassages(query: string, depth: number, refine?: Refinement): Promise<{ passages: ScoredDoc[]; scored: number }> {
    const m = this.index.manifest;
    if (this.bundles.length > 1) throw new CliError(`--approximate walks one bundle's neighbor graph; ${this.bundles.length} bundles were given`, 2);
    if (!m.graph?.entryPoints) throw new CliError('--approximate needs a neighbor graph with entry points: index with --entry-points N or --locality', 2);
    const weights = await this.queryWeights(query);
    const d = m.dim;
    this.graphRows ??= concatRows(this.index.graph);
    const graph = graphViewOf(this.graphRows, m.docCount, m.graph.degree);
    const cpu = new CpuQNetScorer();
    const vectors = this.vectors!;
    const score = (ids: Uint32Array) => {
      const block = new Float32Array(ids.length * d);
      for (let i = 0; i < ids.length; i++) block.set(vectors.subarray(ids[i] * d, (ids[i] + 1) * d), i * d);
      return cpu.scores(weights, block, ids.length);
    };
    // A filter applies to every passage the walk scores, as in the browser's walk (walkRanker.ts).
    const mask = refine?.allowed ? passageMask(refine.allowed.allowed, this.groups) : undefined;
    const keep = mask ? (id: number) => maskKeeps(mask, id) : undefined;
    const r = await graphSearch(graph, score, { ...productWalkOptions(m.docCount, depth, m.graph.entryPoints), keep });
    return { passages: Array.from(r.ids, (doc, i) => ({ doc, score: r.scores[i] })), scored: r.scored };
  }

  private graphRows: Uint32Array | null = null;

  /** Scores of every passage under the query's q-net (Float64 reference scorer). */
  async neuralScores(query: string): Promise<Float64Array> {
    const weights = await this.queryWeights(query);
    const n = this.passageCount;
    if (this.scorer === 'reference') return referenceScores(weights, this.vectors!, n);
    const d = this.union.dim;
    const qnet = await this.ort!.InferenceSession.create(buildQNetOnnx(weights));
    try {
      const scores = new Float64Array(n);
      for (let a = 0; a < n; a += ONNX_SCORE_ROWS) {
        const rows = Math.min(ONNX_SCORE_ROWS, n - a);
        const r = await qnet.run({ [QNET_ONNX_INPUT]: new this.ort!.Tensor('float32', this.vectors!.subarray(a * d, (a + rows) * d), [rows, d]) });
        scores.set(r[QNET_ONNX_OUTPUT].data as Float32Array, a);
      }
      return scores;
    } finally {
      await qnet.release();
    }
  }

  private lexicalOrRefuse(): LexicalRanker {
    if (this.lexicalRanker) return this.lexicalRanker;
    if (this.lexicalMissing) throw new CliError(`${this.lexicalMissing}; use --mode neural`, 2);
    const scheme = this.index.manifest.lexical?.scheme;
    throw new CliError(
      scheme
        ? `this index's lexical scheme ${scheme} is not one this version reads; use --mode neural`
        : 'this index has no lexical index (it was built with --no-lexical); use --mode neural',
      2,
    );
  }

  /** The index's filters and sort keys (verified; null when it has none), read at the first search that needs them. */
  private facetFiles: Promise<{ filters: DocumentFilters | null; sort: DocumentSortKeys | null }> | null = null;

  facets(): Promise<{ filters: DocumentFilters | null; sort: DocumentSortKeys | null }> {
    this.facetFiles ??= (async () => {
      const filters: (DocumentFilters | null)[] = [];
      const sort: (DocumentSortKeys | null)[] = [];
      for (const { dir, index } of this.bundles) {
        const source = new FileSource(dir);
        filters.push(await readDocumentFilters(source, index.manifest));
        sort.push(await readDocumentSort(source, index.manifest));
      }
      if (this.bundles.length === 1) return { filters: filters[0], sort: sort[0] };
      return { filters: unionFilters(this.union, filters), sort: unionSortKeys(this.union, sort) };
    })();
    return this.facetFiles;
  }

  /** The filters, facet counts and sort of one search (src/core/facets.ts); undefined for an index without filters and no sort asked. */
  private async refinement(filters: FilterSelection, sort: SortOrder | null): Promise<Refinement | undefined> {
    if (!this.bundles.some((b) => b.index.manifest.documents?.filters) && !sort && Object.keys(filters).length === 0) return undefined;
    const files = await this.facets();
    return {
      allowed: allowedDocuments(files.filters, filters, this.groups.passages.length),
      ...(files.filters ? { facets: { filters: files.filters, selection: filters } } : {}),
      ...(sort ? { sort: { keys: files.sort, order: sort } } : {}),
    };
  }

  /** Up to k hits, one per document (src/core/modeRanking.ts, as the browser engine ranks). */
  async search(
    original: string,
    mode: SearchMode,
    k: number,
    {
      typos = SEARCH_DEFAULTS.typos,
      filters = SEARCH_DEFAULTS.filters,
      sort = SEARCH_DEFAULTS.sort,
      approximate = false,
    }: Pick<SearchOptions, 'typos' | 'filters' | 'sort'> & { approximate?: boolean } = {},
  ): Promise<SearchResult> {
    const t0 = performance.now();
    const bounded = boundQuery(original);
    const query = bounded.text;
    const enc = this.model?.model.encoders;
    const pieces =
      mode !== 'lexical' && this.tokenizer && enc ? { pieces: this.tokenizer.pieceIds(query).length, maxTokens: enc.maxQueryTokens - 2 } : undefined;
    const notice = queryCutNotice(bounded, pieces);
    let refine: Refinement | undefined;
    try {
      refine = await this.refinement(filters, sort);
    } catch (e) {
      throw new CliError((e as Error).message, 2);
    }
    // Neural mode counts facets over BM25's matches too, where the index has a lexical part.
    const lexical = mode === 'neural' ? (refine?.facets ? (this.lexicalRanker ?? undefined) : undefined) : this.lexicalOrRefuse();
    const lexicalQuery = await lexical?.prepare(query, { typos });
    let neural: ScoredDoc[] | undefined;
    let walked: number | undefined;
    if (mode !== 'lexical' && approximate) {
      ({ passages: neural, scored: walked } = await this.walkPassages(query, neuralPassageDepth(mode, k, this.groups, refine), refine));
    } else if (mode !== 'lexical') {
      const scores = await this.neuralScores(query);
      const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
      neural = order.map((doc) => ({ doc, score: scores[doc] }));
    }
    const { hits, fusion, corrections, facets } = rankForMode({ mode, query, k, docs: this.docs, groups: this.groups, neural, lexical, lexicalQuery, refine });
    return {
      query,
      mode,
      hits,
      ...(facets ? { facets } : {}),
      ...(walked !== undefined ? { approximate: { scored: walked } } : {}),
      ...(fusion ? { fusion } : {}),
      ...(notice ? { notice } : {}),
      ...(corrections ? { corrections } : {}),
      ms: performance.now() - t0,
    };
  }

  async close(): Promise<void> {
    await this.session?.release();
  }
}

/** Graph shards' rows as one array, in document order. */
function concatRows(shards: Uint32Array[]): Uint32Array {
  const out = new Uint32Array(shards.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of shards) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}
