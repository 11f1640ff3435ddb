// The passages' records (title, URL, text) as the browser engine has them: all of them from the
// metadata shards (an old bundle, or preload 'all'), or only the documents it shows, each fetched as
// its fragment (the documents part, src/core/formats/documents.ts) the first time a search shows it.
import { SourceError, type DocMetadata } from '../core/formats/index.ts';
import { retryingOnce } from '../core/retryingOnce.ts';
import { documentGroups, type DocumentGroups } from '../core/ranking.ts';

/** At most this many fragments are fetched at once (a page of hits is 10; browsers open about 6 connections per host). */
const FRAGMENT_FETCHES = 6;

export class DocumentTexts {
  private readonly loading = new Map<number, Promise<void>>();
  private readonly have: Uint8Array;

  private constructor(
    readonly groups: DocumentGroups,
    /** By passage number; holes where a fragment has not been fetched. */
    readonly docs: DocMetadata[],
    private readonly fetchDocument: ((j: number) => Promise<Map<number, DocMetadata>>) | null,
  ) {
    this.have = new Uint8Array(groups.passages.length).fill(fetchDocument ? 0 : 1);
  }

  /** Every record at hand (the metadata shards); `groups` where they are not documentGroups(docs) (several bundles, src/core/bundleUnion.ts). */
  static whole(docs: DocMetadata[], groups: DocumentGroups = documentGroups(docs)): DocumentTexts {
    return new DocumentTexts(groups, docs, null);
  }

  /**
   * Records fetched per document: `fetchDocument(j)` reads and verifies document j's fragment;
   * `fetchWhole` every record from the metadata shards, used when a fragment cannot be had at all
   * (offline with a copy that holds the shards, not the fragments: src/ui/offline.ts).
   */
  static perDocument(
    groups: DocumentGroups,
    passages: number,
    fetchDocument: (j: number) => Promise<Map<number, DocMetadata>>,
    fetchWhole?: () => Promise<DocMetadata[]>,
  ): DocumentTexts {
    const t = new DocumentTexts(groups, new Array<DocMetadata>(passages), fetchDocument);
    if (fetchWhole) t.fetchWhole = retryingOnce(fetchWhole);
    return t;
  }

  private fetchWhole: (() => Promise<DocMetadata[]>) | null = null;

  /** Fetches what is missing of these documents' records (a failure is not kept: the next search tries again). */
  async ensure(documents: number[]): Promise<void> {
    const missing = [...new Set(documents)].filter((j) => !this.have[j]);
    try {
      for (let i = 0; i < missing.length; i += FRAGMENT_FETCHES) await Promise.all(missing.slice(i, i + FRAGMENT_FETCHES).map((j) => this.load(j)));
    } catch (e) {
      // Unreachable, not refused: the same records from the metadata shards (verified as well) do.
      if (!(e instanceof SourceError) || !this.fetchWhole) throw e;
      const all = await this.fetchWhole();
      for (let p = 0; p < all.length; p++) this.docs[p] = all[p];
      this.have.fill(1);
    }
  }

  private load(j: number): Promise<void> {
    let p = this.loading.get(j);
    if (!p) {
      p = this.fetchDocument!(j)
        .then((records) => {
          for (const [passage, r] of records) this.docs[passage] = r;
          this.have[j] = 1;
        })
        .finally(() => this.loading.delete(j));
      this.loading.set(j, p);
    }
    return p;
  }
}
