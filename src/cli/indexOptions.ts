// The index command's option checks: numeric ranges, --lexical's kinds and --base-url, refused before any work.
import { compile } from 'css-select';
import { CliError } from './errors.ts';

/** Ranges of the numeric options: generous for real work, small enough that no value exhausts the machine. */
export const OPTION_RANGES = {
  tileDocs: [1, 1 << 20],
  batchSize: [1, 1024],
  graphDegree: [1, 256],
  entryPoints: [0, 1 << 16],
  chunkDocs: [1, 1 << 16],
  threads: [1, 1024],
} as const;

/** --lexical: its BM25 weights in term chunks (bm25-chunked-v2, fetched per query; the default), or Lunr's one JSON (scheme lunr-doc-1). */
export const LEXICAL_INDEX_KINDS = ['chunked', 'lunr'] as const;
export type LexicalIndexKind = (typeof LEXICAL_INDEX_KINDS)[number];

export function intOption(name: string, [min, max]: readonly [number, number]) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`, 2);
    return n;
  };
}

/** A CSS selector option (--root-selector, --exclude-selectors), refused before any work when css-select cannot parse it. */
export function checkSelector(option: string, selector: string): void {
  if (selector.trim() === '') throw new CliError(`${option}: empty selector`, 2);
  try {
    compile(selector);
  } catch (e) {
    throw new CliError(`${option} ${JSON.stringify(selector)}: not a CSS selector css-select reads (${(e as Error).message})`, 2);
  }
}

/** --base-url: an http(s) URL, or a path (absolute like /docs/, or relative like docs/) on the site. */
export function checkBaseUrl(base: string): void {
  const shown = JSON.stringify(base);
  if (base.trim() === '' || /[\u0000-\u001f\u007f\s]/u.test(base)) throw new CliError(`--base-url ${shown}: empty or holds spaces or control characters`, 2);
  if (/^[a-z][a-z0-9+.-]*:/i.test(base)) {
    let u: URL;
    try {
      u = new URL(base);
    } catch {
      throw new CliError(`--base-url ${shown}: not a valid URL`, 2);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new CliError(`--base-url ${shown}: only http: and https: URLs (or a path such as /docs/) are accepted, got ${u.protocol}`, 2);
    return;
  }
  if (base.startsWith('//'))
    throw new CliError(`--base-url ${shown}: a protocol-relative URL names another host; write https://${base.slice(2)} or a path such as /docs/`, 2);
}
