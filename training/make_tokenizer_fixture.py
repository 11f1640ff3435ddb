"""Regenerates tests/fixtures/tokenizer-cases.json: texts and the token ids that the Python
reference tokenizer (training/bert_tokenizer.py) gives them with bert-base-uncased's vocabulary.
tests/tokenizer.test.ts checks that src/core/tokenizer.ts gives the same ids.

    /usr/bin/python3 training/make_tokenizer_fixture.py [--vocab PATH] [--out PATH]

Random texts draw only from code points assigned in this Python's Unicode database (14.0 on
Debian 12): characters assigned later are 'unassigned' (Cn, dropped as control characters) here
but letters or symbols in newer Unicode (Node 20 has 15.1+), a difference of Unicode versions,
not of tokenizers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bert_tokenizer import BertTokenizer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_VOCAB = os.path.join(REPO, "models", "vocab", "bert-base-uncased-vocab.txt")
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "tokenizer-cases.json")

HANDPICKED = [
    "",
    "   ",
    "Hello, World!",
    "what is the capital of france?",
    "UNwANtéd,running",
    "Café naïve résumé — coöperate façade jalapeño Ångström",
    "ÀÁÂÃÄÅ àáâãäå ÇçÑñ Øø ß ẞ Æ œ",
    "İstanbul ıi Straße ǅungla ﬁne ﬀ",
    "ΟΔΟΣ Ἀθῆναι σοφός",
    "Москва ёлка Ёж",
    "北京是中国的首都。我爱自然语言处理！",
    "日本語のテキスト、カタカナとひらがな。東京タワー",
    "한국어 문장입니다. 서울",
    "混合mixed中文text与English",
    "𠀀𠀁 𪚥 CJK extension B 𠮷野家",
    "emoji 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ ✨",
    "I ❤ NY ☃ ☺ ♫ ✓ ✗",
    "numbers 3.14159 1,000,000 -42 1e-5 2024-01-31 12:30pm #1 $5.99 50% 3/4 ½ ² ①",
    "punctuation!!! ??? ... --- ((( ))) [[ ]] {} <> @#$%^&*_+=|\\~`'\"",
    "unicode punct « guillemets » „quotes“ ‘single’ “double” ¿qué? ¡sí! … – — • · ※ 〈〉 《》 【】",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp\u2003emspace\u3000ideographic",
    "zero\u200bwidth\u200cjoiner\u200dand\ufeffbom\u00adsoft-hyphen",
    "control\x00chars\x01\x07\x1b[0m\x7f\x85here\ufffdreplacement",
    "private \ue000\uf8ff use and unassigned \u0378 \U0010fffe",
    "combining e\u0301 a\u0308 n\u0303 o\u0302\u0323 क्षत्रिय हिन्दी",
    "العربية مرحبا بالعالم",
    "עברית שלום",
    "ไทย ภาษา",
    "[CLS] [SEP] [MASK] [PAD] [UNK] literal special tokens",
    "##hash ##es and co##ntinuation",
    "don't won't it's o'clock rock'n'roll",
    "e-mail user@example.com https://example.com/path?q=1&r=2#frag",
    "snake_case camelCase PascalCase kebab-case SCREAMING_CASE",
    "a" * 100,
    "a" * 101,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "pneumonoultramicroscopicsilicovolcanoconiosis" * 3,
    "😀" * 60,
    "é" * 101,
    "x" + "\u0301" * 150,
    "the " * 300,
    "A hypencoder produces a small neural network for every query; documents are scored by it.",
]

# Pools for random texts: (weight, list of code points or ranges)
POOLS = [
    (30, [(0x61, 0x7A)]),
    (8, [(0x41, 0x5A)]),
    (6, [(0x30, 0x39)]),
    (14, [0x20, 0x20, 0x20, 0x09, 0x0A, 0x0D, 0xA0, 0x2003, 0x3000, 0x2028]),
    (8, [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)]),
    (6, [(0xC0, 0x17F)]),
    (3, [(0x300, 0x36F)]),
    (3, [(0x370, 0x3FF), (0x400, 0x4FF)]),
    (5, [(0x4E00, 0x9FFF)]),
    (2, [(0x3040, 0x30FF), (0xAC00, 0xD7A3)]),
    (1, [(0x20000, 0x2A6DF), (0xF900, 0xFAFF)]),
    (3, [(0x1F300, 0x1F64F), (0x1F900, 0x1F9FF), 0x200D, 0xFE0F, (0x1F3FB, 0x1F3FF)]),
    (3, [(0x2000, 0x206F), (0x3000, 0x303F), (0xFF01, 0xFF5E), (0x2190, 0x21FF)]),
    (2, [(0x0900, 0x097F), (0x0600, 0x06FF), (0x0E00, 0x0E7F)]),
    (1, [(0x00, 0x1F), 0x7F, (0x80, 0x9F), 0xAD, 0xFFFD, 0xFEFF, (0xE000, 0xE0FF)]),
]


def pick(rng: random.Random) -> str:
    total = sum(w for w, _ in POOLS)
    while True:
        r = rng.uniform(0, total)
        for w, pool in POOLS:
            r -= w
            if r <= 0:
                break
        item = rng.choice(pool)
        cp = rng.randint(*item) if isinstance(item, tuple) else item
        ch = chr(cp)
        # only code points assigned in this Python's Unicode (private use is assigned: Co)
        if unicodedata.category(ch) != "Cn":
            return ch


def random_text(rng: random.Random, n: int) -> str:
    out = []
    while len(out) < n:
        if rng.random() < 0.25:  # a real word-ish run, so WordPiece sees vocabulary pieces
            out.extend(rng.choice(["the", "running", "unbelievable", "retrieval", "neural",
                                   "café", "straße", "東京", "tokenization", "42", "3.5"]))
        else:
            out.append(pick(rng))
    return "".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", default=DEFAULT_VOCAB)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--random", type=int, default=400, help="number of random texts")
    ap.add_argument("--seed", type=int, default=20250301)
    a = ap.parse_args()
    tok = BertTokenizer(a.vocab)
    rng = random.Random(a.seed)
    texts = [(t, 512) for t in HANDPICKED]
    texts += [("the " * 300, 32), ("Café naïve résumé " * 20, 16), ("x", 2), ("hello world", 3)]
    for i in range(a.random):
        n = rng.choice([1, 3, 8, 20, 60, 200]) if i % 50 else 3000
        texts.append((random_text(rng, n), rng.choice([512, 512, 64, 32])))
    cases = [{"text": t, "max_length": m, "ids": tok.encode(t, m)} for t, m in texts]
    with open(a.vocab, "rb") as f:
        vocab_sha = hashlib.sha256(f.read()).hexdigest()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump({"generator": "training/make_tokenizer_fixture.py",
                   "reference": "training/bert_tokenizer.py",
                   "python_unicode": unicodedata.unidata_version,
                   "vocab_sha256": vocab_sha, "lowercase": True, "strip_accents": True,
                   "cases": cases}, f, ensure_ascii=True, indent=0)
        f.write("\n")
    print(f"{len(cases)} cases → {a.out}")


if __name__ == "__main__":
    main()
