// The TypeScript tokenizer against the Python reference (training/bert_tokenizer.py): token ids of
// tests/fixtures/tokenizer-cases.json (regenerate with `/usr/bin/python3 training/make_tokenizer_fixture.py`).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BertWordPieceTokenizer, bertPreClean, parseVocab } from '../src/core/tokenizer.ts';

const VOCAB = fileURLToPath(new URL('../models/vocab/bert-base-uncased-vocab.txt', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/tokenizer-cases.json', import.meta.url));

interface Case {
  text: string;
  max_length: number;
  ids: number[];
}

const vocabText = readFileSync(VOCAB, 'utf8');
const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { vocab_sha256: string; cases: Case[] };
const tok = BertWordPieceTokenizer.fromVocab(vocabText, { lowercase: true, stripAccents: true });

describe('BERT uncased WordPiece tokenizer', () => {
  it('uses the vocabulary the fixture was made with', () => {
    expect(createHash('sha256').update(readFileSync(VOCAB)).digest('hex')).toBe(fixture.vocab_sha256);
    expect(tok.vocabSize).toBe(30522);
    expect([tok.padId, tok.unkId, tok.clsId, tok.sepId]).toEqual([0, 100, 101, 102]);
  });

  it(`matches the Python reference on all ${fixture.cases.length} fixture texts`, () => {
    const mismatches: string[] = [];
    for (const c of fixture.cases) {
      const got = tok.encode(c.text, c.max_length).ids;
      if (got.length !== c.ids.length || got.some((v, i) => v !== c.ids[i])) {
        mismatches.push(
          `${JSON.stringify(c.text.slice(0, 80))} (max ${c.max_length}): want ${JSON.stringify(c.ids.slice(0, 20))}…, got ${JSON.stringify(got.slice(0, 20))}…`,
        );
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('covers the cases the issue names', () => {
    const texts = fixture.cases.map((c) => c.text);
    expect(texts.some((t) => /é/.test(t))).toBe(true); // accents
    expect(texts.some((t) => /[\u4e00-\u9fff]/.test(t))).toBe(true); // CJK
    expect(texts.some((t) => /\p{Extended_Pictographic}/u.test(t))).toBe(true); // emoji
    expect(texts.some((t) => t.length > 2000)).toBe(true); // very long inputs
    expect(fixture.cases.some((c) => c.ids.length === c.max_length && c.max_length < 512)).toBe(true); // truncation
  });

  it('gives the well-known pieces', () => {
    expect(tok.tokenize('UNwANtéd,running')).toEqual(['unwanted', ',', 'running']);
    expect(tok.tokenize('北京')).toEqual(['北', '京']);
    expect(tok.encode('hello world', 3).ids).toEqual([101, 7592, 102]);
    expect(tok.encode('', 32).ids).toEqual([101, 102]);
  });

  it('splits astral CJK ideographs and drops unassigned code points (where the library alone would not)', () => {
    expect(bertPreClean('a𠀀b')).toBe('a 𠀀 b');
    expect(bertPreClean('x\u0378y\u0000z\ufffd')).toBe('xyz');
    expect(tok.tokenize('a𠀀b')).toEqual(['a', '[UNK]', 'b']);
  });

  it('pads a batch with [PAD] and a zero mask', () => {
    const b = tok.encodeBatch(['hello world', 'hi'], 16);
    expect(b.seqLength).toBe(4);
    expect(Array.from(b.inputIds)).toEqual([101n, 7592n, 2088n, 102n, 101n, 7632n, 102n, 0n]);
    expect(Array.from(b.attentionMask)).toEqual([1n, 1n, 1n, 1n, 1n, 1n, 1n, 0n]);
    expect(b.lengths).toEqual([4, 3]);
  });

  it('parses vocab.txt with CRLF line ends and keeps the first of duplicate lines', () => {
    const v = parseVocab('[PAD]\r\na\r\na\r\nb\r\n');
    expect([...v.entries()]).toEqual([
      ['[PAD]', 0],
      ['a', 1],
      ['b', 3],
    ]);
  });
});
