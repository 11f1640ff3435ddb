// Stage 1, ingest: the input files read and validated (readInput: each file's bytes to the
// ingester its type picks), then split into passages of at most the model's document tokens.
import { makePassages, type Passage, type PassageStats } from '../../core/ingest/passages.ts';
import type { SourceDoc } from '../../core/ingest/types.ts';
import { InputError } from '../../core/ingest/utf8.ts';
import { encoderInputText } from '../../core/formats/index.ts';
import type { BertWordPieceTokenizer } from '../../core/tokenizer.ts';
import { openModelTokenizer } from '../docEncoder.ts';
import { CliError } from '../errors.ts';
import { type InputSummary, readInput } from '../readInput.ts';
import type { IndexJob } from './job.ts';

export interface Ingested {
  passages: Passage[];
  stats: PassageStats;
  input: InputSummary;
  /** The model's tokenizer: it decided the passages and feeds the encoder. */
  tokenizer: BertWordPieceTokenizer;
}

export async function ingestPassages(job: IndexJob): Promise<Ingested> {
  const { opts, encoders: enc } = job;
  let docs: SourceDoc[];
  let input: InputSummary;
  try {
    ({ docs, summary: input } = await readInput(job.input, {
      urlBase: opts.baseUrl,
      followExternalLinks: opts.followExternalLinks,
      glob: opts.glob,
      excludeGlob: opts.excludeGlob,
      html: { rootSelector: opts.rootSelector, excludeSelectors: opts.excludeSelectors },
      jsonl: { filterFields: opts.filterField, sortFields: opts.sortField },
    }));
  } catch (e) {
    if (e instanceof InputError) throw new CliError(e.message, 2);
    throw e;
  }
  const tokenizer = await openModelTokenizer(job.modelDir, job.model);
  // A dense model's document prefix ("passage: ") takes its pieces of the limit before any text does.
  const prefixTokens = enc.documentPrefix ? tokenizer.pieceIds(encoderInputText(enc, 'document', '')).length : 0;
  const { passages, stats } = makePassages(docs, {
    maxTokens: enc.maxDocumentTokens - prefixTokens,
    long: opts.long ?? 'split',
    countTokens: (w) => tokenizer.pieceIds(w).length,
  });
  const ids = new Set<string>();
  for (const p of passages) {
    if (ids.has(p.id))
      throw new CliError(
        `passage id ${JSON.stringify(p.id)} (a part of document ${JSON.stringify(p.docId)}) collides with a document id; rename that document`,
        2,
      );
    ids.add(p.id);
  }
  job.log(
    `${input.files} file(s)${input.skippedFiles ? ` (+${input.skippedFiles} of other types skipped)` : ''}${linksSkipped(input)}` +
      `${input.excludedByGlob ? ` (${input.excludedByGlob} left out by --glob / --exclude-glob)` : ''}` +
      `${input.noContent ? ` (${input.noContent} pages with no content — nothing matching --root-selector, or ignored whole — not indexed)` : ''}` +
      `: ${stats.documents} documents → ${passages.length} passages` +
      `${stats.longDocuments ? `; ${stats.longDocuments} longer than the model's ${enc.maxDocumentTokens} tokens (${opts.long === 'truncate' ? 'truncated for the encoder' : 'split into passages'})` : ''}` +
      `${stats.emptyDocuments ? `; ${stats.emptyDocuments} with no text` : ''}`,
  );
  return { passages, stats, input, tokenizer };
}

function linksSkipped(s: InputSummary): string {
  const { broken, outside } = s.skippedLinks;
  const parts = [
    broken ? `${broken} broken or looping` : '',
    outside ? `${outside} leading outside the input folder (--follow-external-links follows them)` : '',
  ].filter(Boolean);
  return parts.length ? ` (symbolic links skipped: ${parts.join(', ')})` : '';
}
