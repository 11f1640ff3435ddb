"""BERT uncased WordPiece tokenization in plain Python: the reference our TypeScript tokenizer
(src/core/tokenizer.ts) must match id for id.

The rules of Google's original BERT `tokenization.py` (BasicTokenizer + WordpieceTokenizer):
  1. clean text: drop U+0000, U+FFFD and control characters; every whitespace character → " "
  2. put spaces around every CJK ideograph (the CJK Unified Ideographs blocks and their extensions)
  3. split on whitespace
  4. per token: lowercase, then NFD and drop nonspacing marks (Mn) — the accent strip
  5. split off every punctuation character (ASCII symbols 33–47, 58–64, 91–96, 123–126, and any
     Unicode category P*) as its own token
  6. WordPiece per word: greedy longest match first, continuation pieces prefixed "##"; a word
     with no full segmentation, or longer than 100 characters (code points), is [UNK]
  7. [CLS] + pieces (truncated to max_length - 2) + [SEP]

One choice where implementations differ: a "control character" here is any Unicode category C*
(Cc, Cf, Cn, Co, Cs), as in Hugging Face's BertTokenizer and the Rust `tokenizers` BertNormalizer
that the released Hypencoder checkpoints were used with; Google's first release counted only Cc
and Cf. Text is never matched against special tokens: a literal "[SEP]" in a query is split like
any other text, as in Google's original.
"""

from __future__ import annotations

import unicodedata
from typing import Dict, List, Optional


def load_vocab(path: str) -> Dict[str, int]:
    vocab: Dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            tok = line.rstrip("\n").rstrip("\r")
            if tok not in vocab:
                vocab[tok] = i
    return vocab


def _is_whitespace(ch: str) -> bool:
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def clean_text(text: str) -> str:
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        out.append(" " if _is_whitespace(ch) else ch)
    return "".join(out)


def tokenize_cjk(text: str) -> str:
    out = []
    for ch in text:
        if _is_cjk(ord(ch)):
            out.extend((" ", ch, " "))
        else:
            out.append(ch)
    return "".join(out)


def strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", text)
                   if unicodedata.category(ch) != "Mn")


def split_on_punctuation(token: str) -> List[str]:
    out: List[List[str]] = []
    start_new = True
    for ch in token:
        if _is_punctuation(ch):
            out.append([ch])
            start_new = True
        else:
            if start_new:
                out.append([])
            start_new = False
            out[-1].append(ch)
    return ["".join(x) for x in out]


def basic_tokenize(text: str, lowercase: bool = True, accents: Optional[bool] = None) -> List[str]:
    """accents: strip accents (default: same as lowercase, as in Hugging Face's BertTokenizer)."""
    strip = lowercase if accents is None else accents
    text = tokenize_cjk(clean_text(text))
    out: List[str] = []
    for tok in text.split():
        if lowercase:
            tok = tok.lower()
        if strip:
            tok = strip_accents(tok)
        out.extend(split_on_punctuation(tok))
    return [t for t in " ".join(out).split()]


def wordpiece(word: str, vocab: Dict[str, int], unk: str = "[UNK]",
              max_chars: int = 100) -> List[str]:
    chars = list(word)
    if len(chars) > max_chars:
        return [unk]
    pieces: List[str] = []
    start = 0
    while start < len(chars):
        end = len(chars)
        cur = None
        while start < end:
            sub = "".join(chars[start:end])
            if start > 0:
                sub = "##" + sub
            if sub in vocab:
                cur = sub
                break
            end -= 1
        if cur is None:
            return [unk]
        pieces.append(cur)
        start = end
    return pieces


class BertTokenizer:
    def __init__(self, vocab_path: str, lowercase: bool = True,
                 strip_accents: Optional[bool] = None):
        self.vocab = load_vocab(vocab_path)
        self.lowercase = lowercase
        self.strip_accents = strip_accents

    def tokenize(self, text: str) -> List[str]:
        out: List[str] = []
        for w in basic_tokenize(text, self.lowercase, self.strip_accents):
            out.extend(wordpiece(w, self.vocab))
        return out

    def encode(self, text: str, max_length: int = 512) -> List[int]:
        """[CLS] + the first max_length - 2 pieces + [SEP], as ids."""
        if max_length < 2:
            raise ValueError("max_length must be at least 2 ([CLS] and [SEP])")
        pieces = self.tokenize(text)[: max_length - 2]
        return ([self.vocab["[CLS]"]] + [self.vocab[p] for p in pieces] + [self.vocab["[SEP]"]])
