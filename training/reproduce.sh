#!/usr/bin/env bash
# Reproduces the default model (models/default) from scratch: both stages' pairs, both training runs
# (66 + 55 minutes on the 2-core development machine) and the conversion to a bundle.
#   bash training/reproduce.sh [OUT_DIR]     (default /tmp/hypencoder-small-glove)
# Needs the Debian packages listed in training/DATA.md, and `npm ci` (GloVe and the converter).
# It writes the bundle to OUT_DIR; copy its onnx files, model.json and conversion.json over
# models/default to ship it (the card and loss curves there describe the shipped run).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/hypencoder-small-glove}"
py=/usr/bin/python3
"$py" training/build_dataset.py --out training/data/pairs.jsonl
"$py" training/build_dataset.py --out training/data/pairs-science.jsonl \
  --sources wordnet,gcide,foldoc,manpages,python-docs,calculix,scipy-docs,sympy-docs
nice -n -10 "$py" training/train.py --pairs training/data/pairs.jsonl \
  --out-dir training/runs/default --minutes 66 --batch 64
nice -n -10 "$py" training/train.py --pairs training/data/pairs-science.jsonl \
  --out-dir training/runs/science --init-checkpoint training/runs/default/checkpoint \
  --minutes 55 --batch 64 --lr 3e-4 --warmup 50
node bin/hypencoder-web.js convert training/runs/science/checkpoint --out "$out" --dtype fp16 --id hypencoder-small-glove
