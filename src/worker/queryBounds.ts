// A query as the engine searches it: at most MAX_QUERY_CHARS characters (src/core/query.ts), and a
// notice for the person when it was cut, by characters or by the neural encoder's token limit.
import { boundQuery, queryCutNotice } from '../core/query.ts';
import type { BertWordPieceTokenizer } from '../core/tokenizer.ts';

export interface TokenCut {
  /** WordPiece pieces of the (bounded) query. */
  pieces: number;
  /** How many of them the encoder reads: its max_query_tokens less [CLS] and [SEP]. */
  maxTokens: number;
}

export interface PreparedQuery {
  /** The text every ranker sees. */
  text: string;
  /** What was cut, for the person (queryCutNotice), or null. */
  notice: string | null;
}

/** The pieces of `text` and how many the query encoder reads (tokenizer.encode keeps maxQueryTokens − 2). */
export function neuralTokenCut(tokenizer: BertWordPieceTokenizer, maxQueryTokens: number, text: string): TokenCut {
  return { pieces: tokenizer.pieceIds(text).length, maxTokens: maxQueryTokens - 2 };
}

/**
 * Bounds the query before anything tokenizes or searches it. `tokens` is given when a neural
 * encoder reads the query (neural and hybrid modes of a trained model), to report its cut too.
 */
export function prepareQuery(query: string, tokens?: (text: string) => TokenCut): PreparedQuery {
  const bounded = boundQuery(query);
  return { text: bounded.text, notice: queryCutNotice(bounded, tokens?.(bounded.text)) };
}
