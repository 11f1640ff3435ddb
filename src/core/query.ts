// Bounds on a query, applied once wherever a query enters (CLI argument or stdin, the library, the
// page): however long the text, the engines see at most MAX_QUERY_CHARS characters, and the neural
// encoder reads its first `maxQueryTokens` WordPiece tokens (the tokenizer cuts there). A cut is
// reported, never an error: a pasted paragraph is a legitimate, if unusual, query.

/** Characters a query keeps. BM25 over a few hundred words is still milliseconds; past that only cost grows. */
export const MAX_QUERY_CHARS = 2048;

export interface BoundedQuery {
  text: string;
  /** Characters of the original query (before the cut). */
  originalChars: number;
  /** True when the text was cut to MAX_QUERY_CHARS. */
  cut: boolean;
}

/** The query cut to MAX_QUERY_CHARS characters, at the last whitespace before the limit when there is one. */
export function boundQuery(query: string): BoundedQuery {
  const originalChars = query.length;
  if (originalChars <= MAX_QUERY_CHARS) return { text: query, originalChars, cut: false };
  let text = query.slice(0, MAX_QUERY_CHARS);
  // Do not split a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(text)) text = text.slice(0, -1);
  const ws = text.search(/\s\S*$/);
  if (ws > MAX_QUERY_CHARS / 2) text = text.slice(0, ws);
  return { text, originalChars, cut: true };
}

/**
 * The notice shown when a query was cut: by characters (boundQuery), or by the neural encoder's
 * token limit (`tokens` WordPiece pieces of which the model reads `maxTokens`); null when neither.
 */
export function queryCutNotice(q: BoundedQuery, tokens?: { pieces: number; maxTokens: number }): string | null {
  const parts: string[] = [];
  if (q.cut) parts.push(`the query was cut to its first ${q.text.length.toLocaleString('en')} of ${q.originalChars.toLocaleString('en')} characters`);
  if (tokens && tokens.pieces > tokens.maxTokens)
    parts.push(`the neural model reads its first ${tokens.maxTokens} of ${tokens.pieces.toLocaleString('en')} tokens`);
  return parts.length ? `${parts.join('; ')}` : null;
}
