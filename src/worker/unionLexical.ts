// The lexical part of several index bundles searched as one collection in the browser (the Node
// engine does the same in src/cli/nodeEngine.ts): each bundle's chunked index, united by
// src/core/bundleUnion.ts, so BM25 scores the union as one index.
import { UnionLexicalIndex } from '../core/bundleUnion.ts';
import { LEXICAL_SCHEME_CHUNKED, isLexicalScheme } from '../core/lexical.ts';
import { openLexicalIndex } from '../core/lexicalBundle.ts';
import { PostingsSearcher } from '../core/lexicalScoring.ts';
import type { OpenedBundles } from './bundleLoader.ts';
import type { LexicalSource } from './modeSearch.ts';

/**
 * Several bundles' lexical indexes as one (src/core/bundleUnion.ts): each a chunked index (Lunr's
 * one-file schemes are refused, naming the bundle), read at the first lexical or hybrid search; null
 * where some bundle has none.
 */
export function unionLexical(bundles: OpenedBundles): LexicalSource | null {
  if (bundles.parts.some((p) => !p.readLexical || !isLexicalScheme(p.manifest.lexical?.scheme))) return null;
  const parts = bundles.parts;
  const firsts = bundles.union!.parts.map((p) => p.firstDocument);
  return {
    scheme: LEXICAL_SCHEME_CHUNKED,
    file: `the lexical indexes of ${parts.length} bundles`,
    index: async () => {
      const opened = await Promise.all(parts.map((p) => openLexicalIndex(p.manifest, p.readLexical!, p.readMember)));
      return new UnionLexicalIndex(
        opened.map((o, b) => {
          if (!(o.index instanceof PostingsSearcher))
            throw new Error(
              `${parts[b].url}: its lexical scheme ${o.scheme} is one Lunr index and cannot be searched with other bundles; rebuild it with --lexical chunked`,
            );
          return { index: o.index, firstDocument: firsts[b] };
        }),
      );
    },
  };
}
