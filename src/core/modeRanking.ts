// The three search modes' rankings, one hit per document: the one ranking path of the Node engine
// (src/cli/nodeEngine.ts) and the browser's (src/worker/modeSearch.ts), so that they rank alike.
//   neural:  the q-net's passages, each document at its best passage;
//   lexical: BM25's documents (src/core/lexical.ts), each shown by its LexicalRanking passage;
//   hybrid:  src/core/fusion.ts over documents: BM25's every match, fused with the q-net's top M
//            documents (M = FUSION_DEPTH, whatever k is), those found among its top 4·M passages;
//            then the q-net's other documents among the passages the engine gave, in its order. Each
//            hit is shown by BM25's passage when BM25 matched the document (it holds the query's
//            words), else by the q-net's. The top c is the same for every k ≥ c.
import type { DocMetadata } from './formats/index.ts';
import { FUSION_DEPTH, fuseHybrid, type FusionResult, type ScoredDoc } from './fusion.ts';
import { exactLexicalQuery, type LexicalQuery, type LexicalRanker, type LexicalRanking, type TermCorrection } from './lexical.ts';
import { documentsOfPassages, type DocumentGroups } from './ranking.ts';
import { SEARCH_DEFAULTS, searchHits, subResults, type SearchHit, type SearchMode } from './search.ts';
import { queryStems } from './highlight.ts';
import { facetCounts, sortDocuments, type AllowedDocuments, type FacetCounts, type FilterSelection, type SortOrder } from './facets.ts';
import type { DocumentFilters, DocumentSortKeys } from './formats/facets.ts';

/**
 * The q-net passages (best first) an engine supplies for k hits in neural or hybrid mode (all it has
 * where the bundle has fewer). Neural: k when every document is one passage (k passages are then k
 * documents); else, as for hybrid, 4·max(M, k) passages: its top M documents (among the top 4·M)
 * for fusion, and enough for k documents.
 */
export function neuralPassageDepth(mode: SearchMode, k: number, groups: DocumentGroups, refine?: Refinement): number {
  const depth = rankingDepth(k, refine);
  if (mode === 'neural' && groups.passages.length === groups.docOf.length) return depth;
  return 4 * Math.max(FUSION_DEPTH, depth);
}

/** Documents ranked before the cut at k: with a sort, the best SEARCH_DEFAULTS.sortDepth (or k) are ordered by the key. */
export function rankingDepth(k: number, refine?: Refinement): number {
  return refine?.sort ? Math.max(k, SEARCH_DEFAULTS.sortDepth) : k;
}

/** Filters and sorting for one search (src/core/facets.ts): what the selection keeps, the index's filters for facet counts, the sort. */
export interface Refinement {
  /** Null: every document is kept. */
  allowed: AllowedDocuments | null;
  /** The index's filters and the selection, for facet counts (absent: none counted). */
  facets?: { filters: DocumentFilters; selection: FilterSelection };
  sort?: { keys: DocumentSortKeys | null; order: SortOrder };
}

export interface ModeRankingInput {
  mode: SearchMode;
  query: string;
  k: number;
  /** The bundle's passages, and their documents (documentGroups(docs)). */
  docs: DocMetadata[];
  groups: DocumentGroups;
  /** The q-net's passages best first (neural and hybrid): at least neuralPassageDepth(mode, k, groups). */
  neural?: ScoredDoc[];
  /** Lexical and hybrid. */
  lexical?: LexicalRanker;
  /** The query as `lexical` prepared it (its corrections, where typo tolerance is on); default: its words as typed. */
  lexicalQuery?: LexicalQuery;
  /** Filters, facet counts, sorting. */
  refine?: Refinement;
}

export interface ModeRanking {
  /** Up to k hits, one passage per document, best first. */
  hits: SearchHit[];
  /** Hybrid: the neural weight and the agreement it came from. */
  fusion?: Pick<FusionResult, 'neuralWeight' | 'agreement'>;
  /** Lexical and hybrid: query words no document holds, and the words searched instead (typo tolerance). */
  corrections?: TermCorrection[];
  /** With the index's filters: per key and value, the pages among the query's matches (facets.ts). */
  facets?: FacetCounts;
}

/** One ranked document (documentGroups' number) and the passage that shows it. */
export interface RankedDocument {
  document: number;
  score: number;
  /** Absent: BM25's passage (LexicalRanking.shownPassage), which may need the document's passage texts. */
  passage?: number;
}

/** The mode's documents before any passage text is read: what an engine that fetches texts per hit must fetch (src/worker/modeSearch.ts). */
export interface DocumentRanking {
  ranked: RankedDocument[];
  lexical?: LexicalRanking;
  fusion?: ModeRanking['fusion'];
  facets?: FacetCounts;
}

export function rankForMode(input: ModeRankingInput): ModeRanking {
  return showRanking(rankDocuments(input), input.docs, input.query, input.groups);
}

/**
 * The hits of a document ranking: each document's passage, its text from `docs` (which must hold
 * those documents' passages), and the document's other sections that hold the searched words.
 */
export function showRanking({ ranked, lexical, fusion, facets }: DocumentRanking, docs: DocMetadata[], query: string, groups: DocumentGroups): ModeRanking {
  const passages = ranked.map((h) => ({ doc: h.passage ?? need(lexical, 'lexical').shownPassage(h.document), score: h.score }));
  // A correction's words are highlighted as the query's are: they are what matched.
  const stems = lexical?.stems ?? queryStems(query);
  const corrections = lexical?.corrections.length ? { corrections: lexical.corrections } : {};
  const hits = searchHits(passages, docs, stems).map((hit, i) => {
    const sections = subResults(groups.passages[ranked[i].document], hit.passage, docs, stems, lexical?.passageStems);
    return sections.length ? { ...hit, sections } : hit;
  });
  return { hits, ...(fusion ? { fusion } : {}), ...corrections, ...(facets ? { facets } : {}) };
}

/** The mode's documents, best first, up to k, filtered and sorted as `refine` says; reads no passage text. */
export function rankDocuments(input: Omit<ModeRankingInput, 'docs'>): DocumentRanking {
  const { k, groups, refine } = input;
  const ranking = rankByRelevance(input, rankingDepth(k, refine));
  let ranked = ranking.ranked;
  if (refine?.sort) ranked = sortDocuments(ranked, refine.sort.keys, refine.sort.order);
  // Neural mode counts BM25's matches too (where the engine gave the lexical ranker), not shown as its ranking.
  const matches = ranking.lexical ?? (refine?.facets && input.lexical?.rank(input.lexicalQuery ?? exactLexicalQuery(input.query)));
  const facets = refine?.facets && countFacets(refine.facets, matches?.docs ?? [], ranked, groups);
  return { ...ranking, ranked: ranked.slice(0, k), ...(facets ? { facets } : {}) };
}

/**
 * The pages counted for facets: those that hold the query's words (BM25's matches, before any
 * filter; in neural mode too, where the index has a lexical part), and the hits shown.
 */
function countFacets(
  { filters, selection }: NonNullable<Refinement['facets']>,
  matches: ScoredDoc[],
  shown: RankedDocument[],
  groups: DocumentGroups,
): FacetCounts {
  const candidates = new Set(matches.map((h) => h.doc));
  for (const h of shown) candidates.add(h.document);
  return facetCounts(filters, selection, candidates, groups.passages.length);
}

function rankByRelevance({ mode, query, groups, neural, lexical, lexicalQuery, refine }: Omit<ModeRankingInput, 'docs'>, k: number): DocumentRanking {
  const byNeural = (h: { doc: number; passage: number; score: number }): RankedDocument => ({ document: h.doc, score: h.score, passage: h.passage });
  const allowed = refine?.allowed?.allowed;
  // The engines mask passages before their top-k; filtered here too, so that any engine's list is kept to the selection.
  const neuralKept = (list: ScoredDoc[]) => (allowed ? list.filter((h) => allowed[groups.docOf[h.doc]] === 1) : list);
  if (mode === 'neural') return { ranked: documentsOfPassages(neuralKept(need(neural, 'neural')), groups, k).map(byNeural) };
  const lq = lexicalQuery ?? exactLexicalQuery(query);
  const lex = need(lexical, 'lexical').rank(lq);
  if (refine?.allowed?.count === 0) return { ranked: [], lexical: lex };
  const lexDocs = allowed ? lex.docs.filter((h) => allowed[h.doc] === 1) : lex.docs;
  if (mode === 'lexical') return { ranked: lexDocs.slice(0, k).map((h) => ({ document: h.doc, score: h.score })), lexical: lex };
  const passages = neuralKept(need(neural, 'neural')).slice(0, neuralPassageDepth(mode, k, groups));
  // Documents keep their order as passages are added, so the top M found among the top 4·M passages
  // lead the deeper list, and k only decides how long the tail after them is.
  const neuralDocs = documentsOfPassages(passages, groups);
  const neuralTop = documentsOfPassages(passages.slice(0, 4 * FUSION_DEPTH), groups, FUSION_DEPTH).length;
  // The chance agreement is that of a q-net drawing from the documents the filter keeps.
  const population = refine?.allowed?.count ?? groups.passages.length;
  const f = fuseHybrid(lexDocs, neuralDocs, population, { agreementDepth: SEARCH_DEFAULTS.k, neuralTop });
  const matched = new Set(lexDocs.map((h) => h.doc));
  // A quoted phrase is a filter: only documents that hold it (BM25's matches that passed it) are shown.
  const ranked = (lq.phrases.length ? f.ranked.filter((h) => matched.has(h.doc)) : f.ranked).slice(0, k);
  const neuralPassage = new Map(neuralDocs.map((h) => [h.doc, h.passage]));
  return {
    ranked: ranked.map((h) => ({ document: h.doc, score: h.score, ...(matched.has(h.doc) ? {} : { passage: neuralPassage.get(h.doc)! }) })),
    lexical: lex,
    fusion: { neuralWeight: f.neuralWeight, agreement: f.agreement },
  };
}

function need<T>(x: T | undefined, what: string): T {
  if (x === undefined) throw new Error(`rankForMode: this mode needs the ${what} ranking`);
  return x;
}
