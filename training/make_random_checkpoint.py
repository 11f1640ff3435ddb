"""Writes a randomly initialized Hypencoder checkpoint folder laid out like the released ones
(config.json + model.safetensors or pytorch_model.bin, original parameter names), for tests and
parity runs: the released checkpoints cannot be downloaded here.

    /usr/bin/python3 training/make_random_checkpoint.py OUT_DIR [--config small|base]
        [--qnet-layers 2] [--seed 1] [--format safetensors|bin] [--passage twice|once|passage-only]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hypencoder import (  # noqa: E402
    HypencoderDualEncoder, bert_base_config, random_init_, save_checkpoint, small_config)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--config", choices=["small", "base"], default="small")
    ap.add_argument("--hidden", type=int, default=64, help="small config: hidden size")
    ap.add_argument("--layers", type=int, default=2, help="small config: BERT layers")
    ap.add_argument("--heads", type=int, default=4, help="small config: attention heads")
    ap.add_argument("--qnet-layers", type=int, default=2, help="q-net hidden layers")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", choices=["safetensors", "bin"], default="safetensors")
    ap.add_argument("--passage", choices=["twice", "once", "passage-only"], default="twice",
                    help="the shared BERT under both prefixes, only under query_encoder.transformer.*"
                         ", or only under passage_encoder.transformer.*")
    a = ap.parse_args()
    if a.config == "base":
        cfg = bert_base_config(a.qnet_layers)
    else:
        cfg = small_config(hidden=a.hidden, layers=a.layers, heads=a.heads,
                           qnet_hidden_layers=a.qnet_layers)
    model = random_init_(HypencoderDualEncoder(cfg), a.seed)
    save_checkpoint(model, a.out, a.format, store_passage=(a.passage == "twice"),
                    bert_under="passage" if a.passage == "passage-only" else "query")
    print(a.out)


if __name__ == "__main__":
    main()
