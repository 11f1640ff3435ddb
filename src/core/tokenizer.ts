// BERT uncased WordPiece tokenization, as the released Hypencoder checkpoints use it
// (bert-base-uncased): clean text, CJK splitting, lowercase + accent strip, punctuation split,
// greedy longest-match-first WordPiece with "##", [UNK] for words over 100 characters,
// [CLS] … [SEP], truncation. Runs in Node and in the browser without network access.
//
// Built on @huggingface/tokenizers (a pure-JS port of Hugging Face's tokenizers), fed a
// tokenizer.json object generated here from vocab.txt. Two of that library's BertNormalizer
// details differ from BERT's rules, so a pre-pass here does those two steps first (the library's
// own pass is then a no-op on them):
//   - it walks UTF-16 units when spacing CJK ideographs, so the astral CJK extensions
//     (U+20000…, e.g. "𠀀") are not split off;
//   - its control-character test leaves out unassigned code points (Cn).
// Text is never matched against special tokens: "[SEP]" typed in a query is split like any text.
// The reference is training/bert_tokenizer.py; tests/tokenizer.test.ts checks equal ids.
import { Tokenizer } from '@huggingface/tokenizers';

export interface WordPieceOptions {
  lowercase: boolean;
  /** Strip accents (NFD, drop nonspacing marks). bert-base-uncased: true. */
  stripAccents: boolean;
}

export interface EncodedText {
  ids: number[];
  /** All ones (one per id); the batch encoder pads with zeros. */
  attentionMask: number[];
}

export interface EncodedBatch {
  /** rows × seqLength, row-major, padded with [PAD] (id of "[PAD]", 0 in BERT's vocabulary). */
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  rows: number;
  seqLength: number;
  /** Unpadded length of each row. */
  lengths: number[];
}

export const MAX_INPUT_CHARS_PER_WORD = 100;

const SPECIALS = ['[CLS]', '[SEP]', '[UNK]', '[PAD]'] as const;

/** Unicode category C* except tab, newline, carriage return: removed by BERT's clean-up. */
const CONTROL = /\p{C}/u;
/** BERT's whitespace: space, \t, \n, \r and category Zs. */
const WHITESPACE = /[ \t\n\r\p{Zs}]/u;

export function isCjkCodePoint(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** BERT's clean-up and CJK spacing, walking code points (not UTF-16 units). */
export function bertPreClean(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd) continue;
    if (ch === '\t' || ch === '\n' || ch === '\r') {
      out += ' ';
      continue;
    }
    if (CONTROL.test(ch)) continue;
    if (WHITESPACE.test(ch)) out += ' ';
    else if (isCjkCodePoint(cp)) out += ` ${ch} `;
    else out += ch;
  }
  return out;
}

/** Parses vocab.txt: one token per line, the line number is the id (first occurrence wins). */
export function parseVocab(text: string): Map<string, number> {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const vocab = new Map<string, number>();
  lines.forEach((line, i) => {
    const tok = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (!vocab.has(tok)) vocab.set(tok, i);
  });
  return vocab;
}

export class BertWordPieceTokenizer {
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;
  readonly vocabSize: number;
  private readonly tokenizer: Tokenizer;

  private constructor(
    vocab: Map<string, number>,
    size: number,
    readonly options: WordPieceOptions,
  ) {
    for (const s of SPECIALS) {
      if (!vocab.has(s)) throw new Error(`vocab.txt lacks the special token ${s}`);
    }
    this.clsId = vocab.get('[CLS]')!;
    this.sepId = vocab.get('[SEP]')!;
    this.padId = vocab.get('[PAD]')!;
    this.unkId = vocab.get('[UNK]')!;
    this.vocabSize = size;
    const tokenizerJson = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [],
      normalizer: {
        type: 'BertNormalizer',
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: options.stripAccents,
        lowercase: options.lowercase,
      },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: null,
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: {
        type: 'WordPiece',
        unk_token: '[UNK]',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: MAX_INPUT_CHARS_PER_WORD,
        vocab: Object.fromEntries(vocab),
      },
    };
    this.tokenizer = new Tokenizer(tokenizerJson, {});
  }

  /** From the text of vocab.txt (as shipped in a model bundle). */
  static fromVocab(vocabText: string, options: WordPieceOptions = { lowercase: true, stripAccents: true }): BertWordPieceTokenizer {
    const vocab = parseVocab(vocabText);
    const lines = vocabText.split('\n').length - (vocabText.endsWith('\n') ? 1 : 0);
    return new BertWordPieceTokenizer(vocab, lines, options);
  }

  /** WordPiece pieces of the text, without [CLS]/[SEP]. */
  tokenize(text: string): string[] {
    const cleaned = bertPreClean(text);
    if (cleaned.trim() === '') return [];
    return this.tokenizer.tokenize(cleaned, { add_special_tokens: false });
  }

  /** Ids of the pieces, without [CLS]/[SEP]. */
  pieceIds(text: string): number[] {
    const cleaned = bertPreClean(text);
    if (cleaned.trim() === '') return [];
    return this.tokenizer.encode(cleaned, { add_special_tokens: false }).ids;
  }

  /** [CLS] + the first maxLength − 2 pieces + [SEP]. */
  encode(text: string, maxLength = 512): EncodedText {
    if (!Number.isInteger(maxLength) || maxLength < 2) throw new Error(`maxLength must be an integer >= 2 ([CLS] and [SEP]), got ${maxLength}`);
    const ids = [this.clsId, ...this.pieceIds(text).slice(0, maxLength - 2), this.sepId];
    return { ids, attentionMask: ids.map(() => 1) };
  }

  /** Several texts as one int64 batch for an ONNX encoder, padded to the longest row. */
  encodeBatch(texts: string[], maxLength = 512): EncodedBatch {
    const rows = texts.map((t) => this.encode(t, maxLength).ids);
    const seqLength = Math.max(2, ...rows.map((r) => r.length));
    const inputIds = new BigInt64Array(rows.length * seqLength).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(rows.length * seqLength);
    rows.forEach((r, i) => {
      for (let j = 0; j < r.length; j++) {
        inputIds[i * seqLength + j] = BigInt(r[j]);
        attentionMask[i * seqLength + j] = 1n;
      }
    });
    return { inputIds, attentionMask, rows: rows.length, seqLength, lengths: rows.map((r) => r.length) };
  }
}
