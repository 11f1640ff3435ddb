"""Writes a randomly initialized dense retriever folder laid out as sentence-transformers saves one
(config.json, model.safetensors, vocab.txt, tokenizer_config.json, modules.json, 1_Pooling/,
2_Normalize/, sentence_bert_config.json, config_sentence_transformers.json), for tests and parity
runs of `hypencoder-web convert --kind dense`: no real weights can be downloaded here.

    /usr/bin/python3 training/make_random_dense.py OUT_DIR [--shape small|minilm-l6|bert-base]
        [--pooling cls|mean] [--normalize | --no-normalize] [--hidden 64 --layers 2 --heads 4]
        [--query-prompt "query: " --document-prompt "passage: "] [--cased] [--seed 1]
        [--format safetensors|bin]

Shapes: small (2 layers, 64 wide, 4 heads; mean, normalized by default), minilm-l6 (all-MiniLM-L6-v2:
6 layers, 384 wide, 12 heads, 1536 intermediate, mean, normalized, 256 tokens), bert-base (12 layers,
768 wide, CLS, not normalized, 512 tokens). The vocabulary is bert-base-uncased's (30522 entries).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dense_encoder import write_random_dense  # noqa: E402
from hypencoder import BertConfig  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = os.path.join(REPO_ROOT, "models", "vocab", "bert-base-uncased-vocab.txt")

SHAPES = {
    "small": dict(hidden=64, layers=2, heads=4, intermediate=256, positions=128, pooling="mean",
                  normalize=True, max_seq=128),
    "minilm-l6": dict(hidden=384, layers=6, heads=12, intermediate=1536, positions=512,
                      pooling="mean", normalize=True, max_seq=256),
    "bert-base": dict(hidden=768, layers=12, heads=12, intermediate=3072, positions=512,
                      pooling="cls", normalize=False, max_seq=512),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--shape", choices=list(SHAPES), default="small")
    ap.add_argument("--hidden", type=int)
    ap.add_argument("--layers", type=int)
    ap.add_argument("--heads", type=int)
    ap.add_argument("--pooling", choices=["cls", "mean"])
    ap.add_argument("--normalize", dest="normalize", action="store_const", const=True)
    ap.add_argument("--no-normalize", dest="normalize", action="store_const", const=False)
    ap.add_argument("--query-prompt", help='stored as prompts["query"], e.g. "query: "')
    ap.add_argument("--document-prompt", help='stored as prompts["passage"], e.g. "passage: "')
    ap.add_argument("--cased", action="store_true",
                    help="tokenizer_config.json do_lower_case false (as bert-base-cased's)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", choices=["safetensors", "bin"], default="safetensors")
    a = ap.parse_args()
    s = dict(SHAPES[a.shape])
    for k in ("hidden", "layers", "heads"):
        if getattr(a, k) is not None:
            s[k] = getattr(a, k)
    if a.hidden is not None:
        s["intermediate"] = 4 * a.hidden
    with open(VOCAB, encoding="utf-8") as f:
        vocab_size = sum(1 for _ in f)
    bert = BertConfig(vocab_size=vocab_size, hidden_size=s["hidden"], num_hidden_layers=s["layers"],
                      num_attention_heads=s["heads"], intermediate_size=s["intermediate"],
                      max_position_embeddings=s["positions"])
    prompts = {}
    if a.query_prompt is not None:
        prompts["query"] = a.query_prompt
    if a.document_prompt is not None:
        prompts["passage"] = a.document_prompt
    write_random_dense(a.out, bert, a.pooling or s["pooling"],
                       s["normalize"] if a.normalize is None else a.normalize, a.seed, VOCAB,
                       prompts=prompts, fmt=a.format, max_seq_length=s["max_seq"],
                       lowercase=not a.cased)
    print(a.out)


if __name__ == "__main__":
    main()
