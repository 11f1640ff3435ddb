"""PyTorch's side of the parity checks (tests/parity.test.ts, `hypencoder-web parity`).

    /usr/bin/python3 training/parity_fixture.py CHECKPOINT_DIR --out FIXTURE_DIR
        [--vocab vocab.txt] [--docs 3000] [--encoded-docs 64] [--seed 1] [--fp16-reference]

Loads the checkpoint exactly as the converter does, and writes (little-endian float32, row-major):
  fixture.json       queries (text, input_ids from the Python reference tokenizer), layouts
  qnets.f32          per query: W_0..W_L ([in, out] each), then b_0..b_{L-1}
  qnets_fp16w.f32    the same from the model with every weight rounded to float16 (--fp16-reference):
                     what an fp16-weights bundle must reproduce to float32 accuracy
  docs.f32           the documents to score: --encoded-docs CLS vectors of random token sequences
                     (PyTorch's document encoder) followed by standard-normal vectors, [N, d]
  scores.f32         PyTorch's q-net scores, [queries, N] (float32, the paper's q-net code path)
  doc_batch.json     a padded batch of token ids for the document encoder
  cls.f32            PyTorch's CLS vectors for that batch, [B, d]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from bert_tokenizer import BertTokenizer  # noqa: E402
from hypencoder import load_checkpoint, qnet_scores  # noqa: E402

QUERIES = [
    "what is a hypencoder",
    "how do neural retrieval models score documents?",
    "Café naïve résumé: accents in queries",
    "東京 weather forecast",
    "symptoms of vitamin d deficiency in adults",
    "1998 world cup final score",
    "why is the sky blue",
    "best way to cook rice without a rice cooker",
]


def write_f32(path: str, tensors) -> None:
    with open(path, "wb") as f:
        for t in tensors:
            f.write(t.detach().to(torch.float32).contiguous().numpy().tobytes())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab", default=None)
    ap.add_argument("--queries", type=int, default=len(QUERIES))
    ap.add_argument("--docs", type=int, default=3000, help="documents to score in all")
    ap.add_argument("--encoded-docs", type=int, default=64,
                    help="how many of them are CLS vectors of random token sequences")
    ap.add_argument("--doc-tokens", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-query-tokens", type=int, default=32)
    ap.add_argument("--fp16-reference", action="store_true")
    a = ap.parse_args()
    t0 = time.time()
    torch.manual_seed(a.seed)
    model = load_checkpoint(a.checkpoint)
    c = model.config
    vocab = a.vocab or os.path.join(a.checkpoint, "vocab.txt")
    if not os.path.isfile(vocab):
        vocab = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "models", "vocab", "bert-base-uncased-vocab.txt")
    tok = BertTokenizer(vocab)
    os.makedirs(a.out, exist_ok=True)
    g = torch.Generator().manual_seed(a.seed)
    d = c.bert.hidden_size
    V = c.bert.vocab_size

    # documents: CLS vectors of random token sequences, then Gaussian vectors
    ne = min(a.encoded_docs, a.docs)
    ids = torch.randint(999, V, (ne, a.doc_tokens), generator=g)
    ids[:, 0] = 101
    mask = torch.ones_like(ids)
    lengths = torch.randint(3, a.doc_tokens + 1, (ne,), generator=g)
    for i, n in enumerate(lengths.tolist()):
        ids[i, n - 1] = 102
        ids[i, n:] = 0
        mask[i, n:] = 0
    with torch.no_grad():
        cls = model.passage_encoder(ids, mask) if ne else torch.zeros(0, d)
    docs = torch.cat([cls, torch.randn(a.docs - ne, d, generator=g)])
    write_f32(os.path.join(a.out, "docs.f32"), [docs])
    # the padded batch itself is the document-encoder check (first 16 rows)
    nb = min(16, ne)
    with open(os.path.join(a.out, "doc_batch.json"), "w") as f:
        json.dump({"input_ids": ids[:nb].tolist(), "attention_mask": mask[:nb].tolist()}, f)
    write_f32(os.path.join(a.out, "cls.f32"), [cls[:nb]])

    texts = QUERIES[: a.queries]
    queries = []
    qnets, qnets16, scores = [], [], []
    model16 = None
    if a.fp16_reference:
        model16 = load_checkpoint(a.checkpoint)
        with torch.no_grad():
            for p in model16.parameters():
                p.copy_(p.half().float())
    t_q = 0.0
    for text in texts:
        input_ids = tok.encode(text, a.max_query_tokens)
        q = torch.tensor([input_ids])
        m = torch.ones_like(q)
        with torch.no_grad():
            t1 = time.time()
            W, b = model.query_encoder(q, m)
            t_q += time.time() - t1
            s = qnet_scores([w[0] for w in W], [x[0] for x in b], docs, c.residual)
            qnets.extend([w[0] for w in W] + [x[0] for x in b])
            scores.append(s)
            if model16 is not None:
                W16, b16 = model16.query_encoder(q, m)
                qnets16.extend([w[0] for w in W16] + [x[0] for x in b16])
        queries.append({"text": text, "input_ids": input_ids})
    write_f32(os.path.join(a.out, "qnets.f32"), qnets)
    if model16 is not None:
        write_f32(os.path.join(a.out, "qnets_fp16w.f32"), qnets16)
    write_f32(os.path.join(a.out, "scores.f32"), scores)
    dims = c.vector_dimensions
    with open(os.path.join(a.out, "fixture.json"), "w") as f:
        json.dump({
            "dims": dims, "residual": c.residual, "queries": queries, "docs": a.docs,
            "encoded_docs": ne, "doc_batch_rows": nb, "hidden_size": d,
            "fp16_reference": model16 is not None,
            "torch_query_seconds": t_q / max(1, len(texts)),
            "torch": torch.__version__, "seconds": time.time() - t0,
        }, f, indent=1)
    print(json.dumps({"out": a.out, "seconds": round(time.time() - t0, 2)}))


if __name__ == "__main__":
    main()
