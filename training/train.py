"""Trains the default small Hypencoder on CPU and exports it as a model bundle.

Architecture: the paper's Hypencoder (same hyper-head, same q-net semantics, same export) with a small
BERT: hidden 100 (= GloVe's width, so the word embeddings start as GloVe vectors), 2 layers, 4 heads,
a WordPiece vocabulary of `--vocab-size` tokens (training/glove_vocab.py), q-net dims [100, 100, 100, 1].
GloVe-initialized embedding rows stay frozen: the training pairs cover a small part of English, and
frozen rows keep words the pairs never show (e.g. aerodynamics) where GloVe put them, so the layers
learned on seen words still apply to them.

Loss: in-batch softmax cross-entropy over q-net scores (each query's q-net scores every passage of the
batch; the paper's cross-entropy with in-batch negatives, without its margin-MSE teacher, which we lack).
Every batch is drawn from one source, so its negatives share a domain and are harder.

Second stage (--init-checkpoint, --hard-negatives): the first stage's model trained on, each query's
batch holding BM25-mined hard negatives besides the other queries' passages (training/hard_negatives.py).

training/README.md has the commands that rebuild the shipped model from scratch.
--smoke trains a few steps on a tiny slice (the test suite runs it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_tokenizer import BertTokenizer  # noqa: E402
from glove_vocab import build_vocab, init_embeddings, load_glove, write_vocab  # noqa: E402
from hard_negatives import coverage, mine as mine_negatives  # noqa: E402
from hypencoder import (QNET_LAYER_NORM_EPS, HypencoderDualEncoder, load_state_dict_into,  # noqa: E402
                        random_init_, read_state_dict, save_checkpoint, small_config)

MAX_QUERY_TOKENS = 32
MAX_DOC_TOKENS = 128
SOURCE_WEIGHTS = {"python-docs": 0.3, "gcide": 0.2, "wordnet": 0.2, "foldoc": 0.15, "manpages": 0.15,
                  # The technical manuals (build_dataset.py), about 15 % of the batches together; CalculiX,
                  # the smallest (885 training pairs), lowest, so that a run of a few thousand steps sees
                  # each of its pairs a few times, not dozens.
                  "calculix": 0.02, "scipy-docs": 0.08, "sympy-docs": 0.08}


def batched_qnet_scores(matrices: List[torch.Tensor], biases: List[torch.Tensor], docs: torch.Tensor,
                        residual: List[bool]) -> torch.Tensor:
    """Every query's q-net on every document: matrices[j] (B, in, out), biases[j] (B, out), docs (N, d)
    → (B, N). The same arithmetic as hypencoder.qnet_scores, per query."""
    B = matrices[0].shape[0]
    x = docs.unsqueeze(0).expand(B, -1, -1)
    for j, b in enumerate(biases):
        y = F.relu(torch.bmm(x, matrices[j]) + b.unsqueeze(1))
        y = F.layer_norm(y, (y.shape[-1],), eps=QNET_LAYER_NORM_EPS)
        x = y + x if residual[j] else y
    return torch.bmm(x, matrices[-1]).squeeze(-1)


def weights_checksum(model: torch.nn.Module) -> float:
    """Σ|w| over every parameter: the second stage logs it after loading, equal to the first's final."""
    return round(sum(float(p.detach().double().abs().sum()) for p in model.parameters()), 3)


def encode_all(tok: BertTokenizer, texts: List[str], max_len: int) -> List[List[int]]:
    return [tok.encode(t, max_length=max_len) for t in texts]


def pad(seqs: List[List[int]], pad_id: int) -> Tuple[torch.Tensor, torch.Tensor]:
    S = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), S), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), S), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return ids, mask


def load_pairs(path: str, dev_per_source: int, seed: int) -> Tuple[Dict[str, List[Dict]], Dict[str, List[Dict]]]:
    by_src: Dict[str, List[Dict]] = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                p = json.loads(line)
                by_src.setdefault(p["src"], []).append({"q": p["q"], "d": p["d"]})
            except (json.JSONDecodeError, KeyError) as e:
                raise SystemExit(f"{path}:{n}: not a pair record ({e})")
    rng = random.Random(seed)
    train, dev = {}, {}
    for s, ps in by_src.items():
        rng.shuffle(ps)
        k = min(dev_per_source, len(ps) // 10)
        dev[s], train[s] = ps[:k], ps[k:]
    return train, dev


def dev_pairs_moved(prev_pairs: str, dev: Dict[str, List[Dict]], dev_per_source: int, seed: int) -> Optional[str]:
    """The first source with a dev pair of `prev_pairs` (split by load_pairs) that is not in `dev`, if any."""
    _, prev_dev = load_pairs(prev_pairs, dev_per_source, seed)
    for src, ps in prev_dev.items():
        ours = {(p["q"], p["d"]) for p in dev.get(src, [])}
        if any((p["q"], p["d"]) not in ours for p in ps):
            return src
    return None


def tokenize_split(tok: BertTokenizer, split: Dict[str, List[Dict]], doc_tokens: int
                   ) -> Dict[str, Tuple[List[List[int]], List[List[int]]]]:
    return {s: (encode_all(tok, [p["q"] for p in ps], MAX_QUERY_TOKENS),
                encode_all(tok, [p["d"] for p in ps], doc_tokens)) for s, ps in split.items()}


@torch.no_grad()
def dev_mrr(model: HypencoderDualEncoder, dev: Dict[str, Tuple[List[List[int]], List[List[int]]]],
            residual: List[bool], pad_id: int, pool: int = 200) -> Dict[str, float]:
    """Mean reciprocal rank of each dev query's own passage among `pool` dev passages of its source."""
    model.eval()
    out = {}
    for s, (qs, ds) in dev.items():
        n = min(pool, len(qs))
        if n < 2:
            continue
        di, dm = pad(ds[:n], pad_id)
        docs = model.passage_encoder(di, dm)
        rr = []
        for a in range(0, n, 50):
            qi, qm = pad(qs[a:a + 50], pad_id)
            W, b = model.query_encoder(qi, qm)
            sc = batched_qnet_scores(W, b, docs, residual)
            own = sc[torch.arange(sc.shape[0]), torch.arange(a, a + sc.shape[0])]
            rank = (sc > own.unsqueeze(1)).sum(1) + 1
            rr += (1.0 / rank.float()).tolist()
        out[s] = sum(rr) / len(rr)
    model.train()
    return out


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", required=True, help="pairs.jsonl from training/build_dataset.py")
    ap.add_argument("--out-dir", required=True, help="run folder: vocab, checkpoints, log")
    ap.add_argument("--bundle", help="export the final checkpoint as a model bundle here (fp16)")
    ap.add_argument("--minutes", type=float, default=75.0, help="training time budget (the schedule follows it)")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--batch", type=int, default=96)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--vocab-size", type=int, default=16000)
    ap.add_argument("--pieces", type=int, default=2500)
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--qnet-hidden-layers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=100, help="linear warmup steps")
    ap.add_argument("--train-doc-tokens", type=int, default=96,
                    help="passages are cut to this many tokens while training (the bundle encodes up to "
                         f"{MAX_DOC_TOKENS}); shorter is faster on a CPU")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--init-checkpoint", help="start from this checkpoint (same vocabulary and sizes) instead "
                                              "of GloVe + random weights: the second stage")
    ap.add_argument("--hard-negatives", type=int, default=0, metavar="N",
                    help="mine BM25 hard negatives for N training pairs per source (training/hard_negatives.py) "
                         "and train on those pairs, each batch scoring its positives and negatives")
    ap.add_argument("--smoke", action="store_true", help="tiny run: 3 steps, small vocab, no dev pool")
    a = ap.parse_args(argv)
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    os.makedirs(a.out_dir, exist_ok=True)
    t0 = time.time()

    glove_words, glove = load_glove()
    if a.hidden != glove.shape[1]:
        raise SystemExit(f"--hidden must equal GloVe's width {glove.shape[1]} (the embeddings start as GloVe)")
    vocab = build_vocab(glove_words, a.vocab_size, a.pieces)
    vocab_path = os.path.join(a.out_dir, "vocab.txt")
    write_vocab(vocab, vocab_path)
    table, from_glove = init_embeddings(vocab, glove_words, glove, a.seed)
    del glove
    tok = BertTokenizer(vocab_path)
    pad_id = tok.vocab["[PAD]"]

    train_pairs, dev_pairs = load_pairs(a.pairs, 0 if a.smoke else 500, a.seed)
    if a.init_checkpoint:
        # Stage one's dev pairs must stay out of this run's training: the same --pairs and --seed keep
        # them out, and so does a pairs file with more sources appended (build_dataset.py writes
        # sources in order, and load_pairs draws each source's dev pairs in file order): checked here.
        prev_path = os.path.join(os.path.dirname(os.path.normpath(a.init_checkpoint)), "train_config.json")
        if os.path.exists(prev_path):
            prev = json.load(open(prev_path, encoding="utf-8"))
            same_file = os.path.realpath(prev.get("pairs", "")) == os.path.realpath(a.pairs)
            if prev.get("seed") != a.seed:
                raise SystemExit(f"{prev_path}: stage one ran with --seed {prev.get('seed')}; the second stage "
                                 "needs the same, or stage one's dev pairs would be trained on")
            if not same_file:
                if not os.path.exists(prev.get("pairs", "")):
                    raise SystemExit(f"{prev_path}: stage one's pairs {prev.get('pairs')} are gone: cannot check "
                                     "that its dev pairs stay out of training")
                src = dev_pairs_moved(prev["pairs"], dev_pairs, 0 if a.smoke else 500, a.seed)
                if src:
                    raise SystemExit(f"{a.pairs}: source {src}'s dev pairs differ from stage one's ({prev['pairs']}); "
                                     "some would be trained on (append new sources after the old ones)")
    train = tokenize_split(tok, train_pairs, a.train_doc_tokens)
    dev = tokenize_split(tok, dev_pairs, a.train_doc_tokens)
    sizes = {s: len(v[0]) for s, v in train.items()}
    print(f"vocab {len(vocab)} ({int(from_glove.sum())} from GloVe); train pairs {sizes}; "
          f"prepared in {time.time() - t0:.0f} s", flush=True)

    config = small_config(hidden=a.hidden, layers=a.layers, heads=a.heads,
                          qnet_hidden_layers=a.qnet_hidden_layers, vocab_size=len(vocab),
                          max_positions=MAX_DOC_TOKENS)
    model = HypencoderDualEncoder(config)
    random_init_(model, a.seed)
    bert = model.query_encoder.transformer
    with torch.no_grad():
        for name, p in bert.named_parameters():
            if "LayerNorm.weight" in name:
                p.fill_(1.0)
            elif "LayerNorm.bias" in name:
                p.zero_()
        bert.embeddings.word_embeddings.weight.copy_(table)
        bert.embeddings.word_embeddings.weight[tok.vocab["[CLS]"]].zero_()
        # Identity value/output projections: with BERT's small random query/key weights attention
        # starts near uniform, so the [CLS] output starts as the normalized mean of the passage's
        # GloVe vectors (measured: CLS spread across passages 0.26 vs 0.011 with random projections,
        # where the loss sat at ln(batch) for the first hundred steps).
        eye = torch.eye(a.hidden)
        for layer in bert.encoder.layer:
            layer.attention.self.value.weight.copy_(eye)
            layer.attention.self.value.bias.zero_()
            layer.attention.output.dense.weight.copy_(eye)
            layer.attention.output.dense.bias.zero_()
    init_record = None
    if a.init_checkpoint:
        # Stage two: every weight from stage one, whose vocabulary this run rebuilt identically.
        with open(os.path.join(a.init_checkpoint, "vocab.txt"), encoding="utf-8") as f:
            if f.read().split("\n") != open(vocab_path, encoding="utf-8").read().split("\n"):
                raise SystemExit(f"{a.init_checkpoint}: its vocab.txt differs from this run's (other --vocab-size or --pieces?)")
        sd, _ = read_state_dict(a.init_checkpoint)
        load_state_dict_into(model, sd)
        init_record = {"init_checkpoint": a.init_checkpoint, "loaded_tensors": len(sd),
                       "checksum": weights_checksum(model)}
    frozen_rows = from_glove.unsqueeze(1)
    bert.embeddings.word_embeddings.weight.register_hook(lambda g: g * (1.0 - frozen_rows))
    residual = config.residual

    negatives: Dict[str, List[Tuple[int, int]]] = {}
    if a.hard_negatives:
        t1 = time.time()
        negatives = mine_negatives(train_pairs, a.hard_negatives, a.seed)
        print(f"hard negatives mined in {time.time() - t1:.0f} s: {coverage(negatives, a.hard_negatives, train_pairs)}",
              flush=True)
        with open(os.path.join(a.out_dir, "negatives.jsonl"), "w", encoding="utf-8") as f:
            for s, found in negatives.items():
                for i, j in found:
                    f.write(json.dumps({"src": s, "q": train_pairs[s][i]["q"], "pos": train_pairs[s][i]["d"],
                                        "neg": train_pairs[s][j]["d"]}) + "\n")

    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    weights = {s: SOURCE_WEIGHTS.get(s, 0.1) for s in train if sizes[s] >= a.batch or a.smoke}
    if a.hard_negatives:
        weights = {s: w for s, w in weights.items() if len(negatives.get(s, [])) >= a.batch or a.smoke and negatives.get(s)}
    if not weights:
        raise SystemExit(f"no source has {a.batch} training pairs{' with a mined negative' if a.hard_negatives else ''} "
                         "(lower --batch, or raise --hard-negatives)")
    srcs, probs = list(weights), [weights[s] for s in weights]
    rng = random.Random(a.seed)
    budget = a.minutes * 60.0
    max_steps = 3 if a.smoke else a.max_steps
    warmup = 5 if a.smoke else a.warmup
    log_path = os.path.join(a.out_dir, "log.jsonl")
    log = open(log_path, "w")
    if init_record:
        log.write(json.dumps(init_record) + "\n")
    step, t_train, ema = 0, time.time(), None
    next_eval = t_train + 600
    model.train()
    while True:
        frac = (time.time() - t_train) / budget
        if (max_steps and step >= max_steps) or (not max_steps and frac >= 1.0):
            break
        step += 1
        lr = a.lr * min(1.0, step / warmup) * max(0.05, 1.0 - max(0.0, frac) if not max_steps else 1.0 - step / max_steps)
        for gr in opt.param_groups:
            gr["lr"] = lr
        s = rng.choices(srcs, probs)[0]
        qs, ds = train[s]
        if a.hard_negatives:
            picked = rng.sample(negatives[s], min(a.batch, len(negatives[s])))
            idx = [i for i, _ in picked]
            doc_ids = idx + [j for _, j in picked]  # positives, then each query's negative
        else:
            idx = rng.sample(range(len(qs)), min(a.batch, len(qs)))
            doc_ids = idx
        qi, qm = pad([qs[i] for i in idx], pad_id)
        di, dm = pad([ds[i] for i in doc_ids], pad_id)
        W, b = model.query_encoder(qi, qm)
        docs = model.passage_encoder(di, dm)
        scores = batched_qnet_scores(W, b, docs, residual)
        if a.hard_negatives:
            # A mined negative may be another query's positive in this batch, or two queries may draw
            # the same one: a column holding a row's own passage (or its text) but not its target is
            # masked, so no query is pushed away from its own answer.
            texts = [train_pairs[s][i]["d"] for i in doc_ids]
            same = torch.tensor([[texts[c] == texts[r] and c != r for c in range(len(doc_ids))]
                                 for r in range(len(idx))])
            scores = scores.masked_fill(same, float("-inf"))
        loss = F.cross_entropy(scores, torch.arange(len(idx)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        rec = {"step": step, "seconds": round(time.time() - t_train, 1), "source": s,
               "loss": round(loss.item(), 4), "loss_ema": round(ema, 4), "lr": lr, "docs": len(doc_ids)}
        if not a.smoke and time.time() >= next_eval:
            rec["dev_mrr"] = dev_mrr(model, dev, residual, pad_id)
            save_checkpoint(model, os.path.join(a.out_dir, "checkpoint"))
            next_eval = time.time() + 600
        log.write(json.dumps(rec) + "\n")
        log.flush()
        if step % 50 == 0 or "dev_mrr" in rec or a.smoke:
            print(json.dumps(rec), flush=True)
    final = {"step": step, "seconds": round(time.time() - t_train, 1), "final": True,
             "checksum": weights_checksum(model)}
    if not a.smoke:
        final["dev_mrr"] = dev_mrr(model, dev, residual, pad_id)
    log.write(json.dumps(final) + "\n")
    log.close()
    print(json.dumps(final), flush=True)
    ckpt = os.path.join(a.out_dir, "checkpoint")
    save_checkpoint(model, ckpt)
    shutil.copyfile(vocab_path, os.path.join(ckpt, "vocab.txt"))
    with open(os.path.join(a.out_dir, "train_config.json"), "w") as f:
        json.dump({**vars(a), "vocab_entries": len(vocab), "glove_rows": int(from_glove.sum()),
                   "train_pairs": sizes, "steps": step, "train_seconds": final["seconds"]}, f, indent=2)
    if a.bundle:
        from export_onnx import main as export_main
        rc = export_main([ckpt, "--out", a.bundle, "--dtype", "fp16", "--vocab", vocab_path,
                          "--id", os.path.basename(os.path.normpath(a.bundle)) if not a.smoke else "smoke",
                          "--max-query-tokens", str(MAX_QUERY_TOKENS),
                          "--max-document-tokens", str(MAX_DOC_TOKENS), "--force"])
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
