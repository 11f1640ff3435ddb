"""Export a Hypencoder checkpoint to a model bundle for hypencoder-web.

    /usr/bin/python3 training/export_onnx.py CHECKPOINT_DIR --out MODEL_DIR [--dtype fp32|fp16|int8]
        [--kind auto|hypencoder|dense] [--pooling cls|mean] [--normalize | --no-normalize]
        [--query-prefix TEXT] [--document-prefix TEXT]

The bundle (docs/FORMATS.md, "Model bundle"):
  query_encoder.onnx  input_ids, attention_mask int64 [1, S] →
                      W_0..W_L float32 [1, in_j, out_j] (row-major, y = x·W, the scorer's layout),
                      b_0..b_{L-1} float32 [1, out_j]
  doc_encoder.onnx    input_ids, attention_mask int64 [B, S] → cls float32 [B, d]

--kind dense takes a sentence-transformers style BERT-family retriever instead (dense_encoder.py):
the same bundle with a zero-layer q-net, qnet.dims [H, 1]: query_encoder.onnx outputs W_0 =
the pooled (CLS or masked mean, optionally L2-normalized) query embedding [1, H, 1],
doc_encoder.onnx the pooled document embedding ("embedding" [B, H]); prefixes such as e5's
"query: " / "passage: " go to model.json (query_prefix, document_prefix). --kind auto (default)
takes a folder with modules.json, or whose config.json names a non-Hypencoder model_type, as dense.
  vocab.txt           the WordPiece vocabulary
  model.json          the descriptor (architecture, tokenizer, files with bytes and SHA-256)
  conversion.json     how it was made (source files, dtype, torch version), not read by clients

dtype fp16 stores every large weight as float16 followed by a Cast to float32: the file is half the
size, onnxruntime folds the casts at session creation, and all arithmetic stays float32 (on WebGPU
too), so the only difference from fp32 is the rounding of the weights to half precision.
dtype int8 exports fp32 and then stores every weight matrix as int8 with per-channel float32 scales
(quantize_onnx.py: DequantizeLinear, or for the token embeddings a Gather of int8 rows and their
scales); vectors (biases, LayerNorm) stay float32. About a quarter of fp32's size; arithmetic float32.

Exit status: 0 done, 2 not a Hypencoder checkpoint / shapes disagree / bad arguments, 1 otherwise.
The output is written to a temporary sibling folder and renamed into place at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from typing import Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from hypencoder import (  # noqa: E402
    QNET_LAYER_NORM_EPS,
    CheckpointError,
    HypencoderDualEncoder,
    load_checkpoint,
)
from quantize_onnx import QuantizeError, quantize_file  # noqa: E402
from dense_encoder import DenseDualEncoder, is_dense_folder, load_dense  # noqa: E402

OPSET = 17
MODEL_FORMAT = "hypencoder-model"
MODEL_FORMAT_VERSION = 1
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_VOCAB = os.path.join(REPO_ROOT, "models", "vocab", "bert-base-uncased-vocab.txt")


class QueryEncoderForExport(torch.nn.Module):
    def __init__(self, model: HypencoderDualEncoder):
        super().__init__()
        self.q = model.query_encoder

    def forward(self, input_ids, attention_mask):
        matrices, biases = self.q(input_ids, attention_mask)
        return tuple(matrices) + tuple(biases)


class DocEncoderForExport(torch.nn.Module):
    def __init__(self, model: HypencoderDualEncoder):
        super().__init__()
        self.p = model.passage_encoder

    def forward(self, input_ids, attention_mask):
        return self.p(input_ids, attention_mask)


def query_output_names(model: HypencoderDualEncoder) -> List[str]:
    L = model.config.hidden_layers
    return [f"W_{j}" for j in range(L + 1)] + [f"b_{j}" for j in range(L)]


def _dummy(batch: int, seq: int, vocab: int):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(999, vocab, (batch, seq), generator=g)
    ids[:, 0] = 101 if vocab > 101 else 0
    return ids, torch.ones(batch, seq, dtype=torch.int64)


def export_query_encoder(model: HypencoderDualEncoder, path: str) -> None:
    ids, mask = _dummy(1, 8, model.config.bert.vocab_size)
    torch.onnx.export(
        QueryEncoderForExport(model).eval(), (ids, mask), path,
        input_names=["input_ids", "attention_mask"],
        output_names=query_output_names(model),
        dynamic_axes={"input_ids": {1: "sequence"}, "attention_mask": {1: "sequence"}},
        opset_version=OPSET, do_constant_folding=True)
    L = model.config.hidden_layers
    dims = model.config.vector_dimensions
    shapes = {f"W_{j}": [1, dims[j], dims[j + 1]] for j in range(L + 1)}
    shapes.update({f"b_{j}": [1, dims[j + 1]] for j in range(L)})
    _declare_output_shapes(path, shapes)


def _declare_output_shapes(path: str, shapes: Dict[str, List]) -> None:
    """The tracer leaves some output dimensions symbolic (the query encoder's batch of 1 comes from
    a Shape op; the hidden size passes through a Gather); declare the known sizes so that clients
    see [1, in, out], [1, out] and [batch, d] in the model's metadata."""
    import onnx
    m = onnx.load(path)
    for o in m.graph.output:
        want = shapes[o.name]
        dims = o.type.tensor_type.shape.dim
        if len(dims) != len(want):
            raise RuntimeError(f"{path}: output {o.name} has rank {len(dims)}, expected {len(want)}")
        for d, w in zip(dims, want):
            d.Clear()
            if isinstance(w, str):
                d.dim_param = w
            else:
                d.dim_value = w
    onnx.save(m, path)


def doc_output_name(model) -> str:
    """"cls" for a Hypencoder; a dense model's pooled vector is "embedding"."""
    return getattr(model, "doc_output", "cls")


def export_doc_encoder(model: HypencoderDualEncoder, path: str) -> None:
    ids, mask = _dummy(2, 8, model.config.bert.vocab_size)
    mask[1, 5:] = 0  # a padded row, so a pooling that ignored the mask would trace differently
    out = doc_output_name(model)
    torch.onnx.export(
        DocEncoderForExport(model).eval(), (ids, mask), path,
        input_names=["input_ids", "attention_mask"], output_names=[out],
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                      "attention_mask": {0: "batch", 1: "sequence"}, out: {0: "batch"}},
        opset_version=OPSET, do_constant_folding=True)
    _declare_output_shapes(path, {out: ["batch", model.config.bert.hidden_size]})


def to_fp16_weights(path: str, min_elements: int = 16) -> int:
    """Rewrites an ONNX file so that every float32 initializer with at least `min_elements` values
    is stored as float16 and cast back to float32 by a Cast node at the start of the graph.
    Returns the number of converted initializers."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(path)
    g = m.graph
    casts = []
    keep = []
    n = 0
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT and int(np.prod(init.dims)) >= min_elements:
            a = numpy_helper.to_array(init)
            h = a.astype(np.float16)
            if not np.all(np.isfinite(h)):
                raise RuntimeError(f"initializer {init.name} overflows float16")
            new_name = init.name + "__fp16"
            keep.append(numpy_helper.from_array(h, new_name))
            casts.append(helper.make_node("Cast", [new_name], [init.name], to=TensorProto.FLOAT,
                                          name=f"cast_fp16_{n}"))
            n += 1
        else:
            keep.append(init)
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return n


def check_onnx(path: str, expected_outputs: Dict[str, List]) -> None:
    """The file loads, passes the ONNX checker, and its outputs have the expected shapes
    (a string is a symbolic dimension)."""
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    got = {}
    for o in m.graph.output:
        dims = []
        for d in o.type.tensor_type.shape.dim:
            dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or "?"))
        got[o.name] = dims
        if o.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            raise RuntimeError(f"{path}: output {o.name} is not float32")
    names = list(got)
    if names != list(expected_outputs):
        raise RuntimeError(f"{path}: outputs {names}, expected {list(expected_outputs)}")
    for name, want in expected_outputs.items():
        have = got[name]
        ok = len(have) == len(want) and all(
            (isinstance(w, str) and not isinstance(h, int)) or h == w for h, w in zip(have, want))
        if not ok:
            raise RuntimeError(f"{path}: output {name} has shape {have}, expected {want}")


def file_ref(folder: str, name: str) -> Dict:
    p = os.path.join(folder, name)
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return {"path": name, "bytes": os.path.getsize(p), "sha256": h.hexdigest()}


def read_vocab(path: str) -> List[str]:
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").rstrip("\r") for line in f]


def tokenizer_flags(checkpoint_dir: str) -> Dict[str, bool]:
    """do_lower_case / strip_accents from tokenizer_config.json when the checkpoint ships one;
    bert-base-uncased's defaults (both true) otherwise. Like Hugging Face's BertTokenizer,
    strip_accents unset means 'same as lowercase'."""
    lower, strip = True, None
    p = os.path.join(checkpoint_dir, "tokenizer_config.json")
    if os.path.isfile(p):
        with open(p) as f:
            tc = json.load(f)
        lower = bool(tc.get("do_lower_case", True))
        strip = tc.get("strip_accents")
    return {"lowercase": lower, "strip_accents": lower if strip is None else bool(strip)}


def find_vocab(checkpoint_dir: str, explicit: Optional[str]) -> str:
    for cand in (explicit, os.path.join(checkpoint_dir, "vocab.txt"), SHARED_VOCAB):
        if cand and os.path.isfile(cand):
            return cand
    if explicit:
        raise CheckpointError(f"vocabulary {explicit} does not exist")
    raise CheckpointError(
        f"no vocabulary: {checkpoint_dir} has no vocab.txt; pass --vocab PATH "
        "(bert-base-uncased's vocab.txt for the released checkpoints)")


def build_bundle(model: HypencoderDualEncoder, out_dir: str, *, dtype: str, vocab_path: str,
                 model_id: str, tokenizer: Dict[str, bool], max_query_tokens: int,
                 max_document_tokens: int, source: Optional[Dict] = None,
                 prefixes: Optional[Dict[str, str]] = None,
                 conversion_extra: Optional[Dict] = None) -> Dict:
    """Writes the bundle into out_dir (which must exist and be empty). Returns model.json.
    prefixes: {"query": …, "document": …}, written to model.json when non-empty."""
    c = model.config
    vocab = read_vocab(vocab_path)
    if len(vocab) != c.bert.vocab_size:
        raise CheckpointError(f"the vocabulary {vocab_path} has {len(vocab)} entries but the "
                              f"model's word embeddings have {c.bert.vocab_size} rows")
    for tok in ("[CLS]", "[SEP]", "[UNK]", "[PAD]"):
        if tok not in vocab:
            raise CheckpointError(f"the vocabulary {vocab_path} lacks {tok}")
    if max_query_tokens > c.bert.max_position_embeddings or \
            max_document_tokens > c.bert.max_position_embeddings:
        raise CheckpointError(f"max tokens exceed the model's {c.bert.max_position_embeddings} "
                              "position embeddings")
    shutil.copyfile(vocab_path, os.path.join(out_dir, "vocab.txt"))

    t0 = time.time()
    q_path = os.path.join(out_dir, "query_encoder.onnx")
    d_path = os.path.join(out_dir, "doc_encoder.onnx")
    with torch.no_grad():
        export_query_encoder(model, q_path)
        export_doc_encoder(model, d_path)
    dims = c.vector_dimensions
    L = c.hidden_layers
    names = query_output_names(model)
    expected_q = {f"W_{j}": [1, dims[j], dims[j + 1]] for j in range(L + 1)}
    expected_q.update({f"b_{j}": [1, dims[j + 1]] for j in range(L)})
    converted = {}
    if dtype == "fp16":
        converted["query_encoder"] = to_fp16_weights(q_path)
        converted["doc_encoder"] = to_fp16_weights(d_path)
    elif dtype == "int8":  # from the fp32 export, so the weights are rounded once
        for key, p in (("query_encoder", q_path), ("doc_encoder", d_path)):
            st = quantize_file(p, p)
            converted[key] = {k: st[k] for k in ("dequantize", "gather", "max_rel_error")}
    check_onnx(q_path, expected_q)
    check_onnx(d_path, {doc_output_name(model): ["batch", c.bert.hidden_size]})
    export_s = time.time() - t0

    model_json = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "id": model_id,
        "tokenizer": {"kind": "bert-wordpiece", "vocab": "vocab.txt",
                      "lowercase": tokenizer["lowercase"],
                      "strip_accents": tokenizer["strip_accents"]},
        "max_query_tokens": max_query_tokens,
        "max_document_tokens": max_document_tokens,
        "encoder": {"hidden_size": c.bert.hidden_size, "layers": c.bert.num_hidden_layers,
                    "heads": c.bert.num_attention_heads,
                    "intermediate_size": c.bert.intermediate_size,
                    "vocab_size": c.bert.vocab_size,
                    "max_position_embeddings": c.bert.max_position_embeddings},
        "qnet": {"dims": list(dims), "activation": "relu",
                 "layer_norm": {"affine": False, "eps": QNET_LAYER_NORM_EPS},
                 "residual": c.residual},
        "files": {"query_encoder": file_ref(out_dir, "query_encoder.onnx"),
                  "doc_encoder": file_ref(out_dir, "doc_encoder.onnx"),
                  "vocab": file_ref(out_dir, "vocab.txt")},
        "query_encoder_outputs": names,
    }
    for side in ("query", "document"):
        if (prefixes or {}).get(side):
            model_json[f"{side}_prefix"] = prefixes[side]
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        f.write(json.dumps(model_json, indent=2) + "\n")
    conversion = {
        "tool": "training/export_onnx.py",
        "source": source or {},
        "dtype": dtype,
        ("int8_initializers" if dtype == "int8" else "fp16_initializers"): converted,
        "opset": OPSET,
        "torch": torch.__version__,
        "export_seconds": round(export_s, 2),
        "bert": {"shared_encoder": c.shared_encoder, "layer_norm_eps": c.bert.layer_norm_eps,
                 "type_vocab_size": c.bert.type_vocab_size},
        **(conversion_extra or {}),
    }
    with open(os.path.join(out_dir, "conversion.json"), "w") as f:
        f.write(json.dumps(conversion, indent=2) + "\n")
    return model_json


def write_check(model: HypencoderDualEncoder, path: str, seed: int = 0) -> None:
    """PyTorch's outputs for a sample query (no padding) and two documents (one padded), from the
    float32 model: the convert command compares onnxruntime's outputs against them."""
    c = model.config
    g = torch.Generator().manual_seed(seed)
    V = c.bert.vocab_size
    lo = min(999, V - 1)
    q = torch.randint(lo, V, (1, 9), generator=g)
    q[0, 0], q[0, -1] = min(101, V - 1), min(102, V - 1)
    qm = torch.ones_like(q)
    d = torch.randint(lo, V, (2, 12), generator=g)
    dm = torch.ones_like(d)
    dm[1, 7:] = 0
    with torch.no_grad():
        W, b = model.query_encoder(q, qm)
        cls = model.passage_encoder(d, dm)
    names = query_output_names(model)
    outs = {n: t.reshape(-1).tolist() for n, t in zip(names, list(W) + list(b))}
    with open(path, "w") as f:
        json.dump({"query": {"input_ids": q.reshape(-1).tolist(), "attention_mask": qm.reshape(-1).tolist(),
                             "outputs": outs},
                   "docs": {"input_ids": d.tolist(), "attention_mask": dm.tolist(),
                            "cls": cls.tolist()}}, f)


def atomic_output(out_dir: str, force: bool, write) -> None:
    """Calls write(tmp_dir) with an empty sibling temp folder, then renames it to out_dir."""
    out_dir = os.path.abspath(out_dir)
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    if os.path.exists(out_dir) and not force:
        if not (os.path.isdir(out_dir) and not os.listdir(out_dir)):
            raise CheckpointError(f"{out_dir} already exists (pass --force to replace it)")
    tmp = tempfile.mkdtemp(prefix=os.path.basename(out_dir) + ".tmp-", dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's 0700 would survive the rename
    try:
        write(tmp)
        if os.path.exists(out_dir):
            old = tempfile.mkdtemp(prefix=os.path.basename(out_dir) + ".old-", dir=parent)
            os.rmdir(old)
            os.rename(out_dir, old)
            os.rename(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="folder with config.json and model.safetensors or "
                                       "pytorch_model.bin")
    ap.add_argument("--out", required=True, help="the model bundle folder to create")
    ap.add_argument("--dtype", choices=["fp32", "fp16", "int8"], default="fp32")
    ap.add_argument("--id", help="model id in model.json (default: the checkpoint folder's name, "
                                 "with -fp16 / -int8 for those dtypes)")
    ap.add_argument("--vocab", help="vocab.txt (default: the checkpoint's, else bert-base-uncased's "
                                    "from models/vocab/)")
    ap.add_argument("--max-query-tokens", type=int, default=32)
    ap.add_argument("--max-document-tokens", type=int,
                    help="default 512, or a dense model's max_seq_length (sentence_bert_config.json)")
    ap.add_argument("--kind", choices=["auto", "hypencoder", "dense"], default="auto",
                    help="auto: dense when the folder has modules.json or a non-Hypencoder "
                         "config.json model_type")
    ap.add_argument("--pooling", choices=["cls", "mean"],
                    help="dense, a folder without modules.json: how token vectors are pooled")
    ap.add_argument("--normalize", dest="normalize", action="store_const", const=True,
                    help="dense, without modules.json: L2-normalize the pooled vectors")
    ap.add_argument("--no-normalize", dest="normalize", action="store_const", const=False)
    ap.add_argument("--query-prefix", help="dense: text put before every query (e5: 'query: '); "
                                           "default config_sentence_transformers.json's prompts")
    ap.add_argument("--document-prefix", help="dense: text put before every document (e5: "
                                              "'passage: ')")
    ap.add_argument("--force", action="store_true", help="replace --out if it exists")
    ap.add_argument("--check-out", help="write PyTorch (float32) outputs for a sample query and "
                                        "two documents here (JSON), to verify the ONNX files")
    args = ap.parse_args(argv)
    try:
        t0 = time.time()
        dense = args.kind == "dense" or (args.kind == "auto" and is_dense_folder(args.checkpoint))
        if not dense:
            for opt in ("pooling", "normalize", "query_prefix", "document_prefix"):
                if getattr(args, opt) is not None:
                    raise CheckpointError(f"--{opt.replace('_', '-')} applies to dense models only "
                                          f"(--kind dense), and {args.checkpoint} is taken as a "
                                          "Hypencoder checkpoint")
        base = os.path.basename(os.path.normpath(os.path.abspath(args.checkpoint)))
        model_id = args.id or (base + ("" if args.dtype == "fp32" else "-" + args.dtype))
        prefixes, extra, tok_dir = None, None, args.checkpoint
        if dense:
            model = load_dense(args.checkpoint, pooling=args.pooling, normalize=args.normalize,
                               query_prefix=args.query_prefix,
                               document_prefix=args.document_prefix, vocab=args.vocab)
            spec = model.spec
            vocab, tok_dir = os.path.join(spec.transformer_dir, "vocab.txt"), spec.transformer_dir
            vocab = args.vocab or vocab
            prefixes = {"query": spec.query_prefix, "document": spec.document_prefix}
            extra = {"dense": {"pooling": spec.pooling, "normalize": spec.normalize,
                               "files": spec.source, "max_seq_length": spec.max_seq_length}}
            source = {"dense_folder": base, "vocab": os.path.basename(vocab)}
            doc_default = spec.max_seq_length or 512
            what = (f"dense BERT {spec.bert.num_hidden_layers}x{spec.bert.hidden_size} "
                    f"({spec.bert.num_attention_heads} heads), {spec.pooling} pooling, "
                    f"{'normalized' if spec.normalize else 'not normalized'}, prefixes "
                    f"{spec.query_prefix!r} / {spec.document_prefix!r}")
        else:
            try:
                model = load_checkpoint(args.checkpoint)
            except CheckpointError as e:
                if args.kind == "auto" and "not a Hypencoder checkpoint" in str(e):
                    raise CheckpointError(f"{e}; nor a dense encoder folder (that has modules.json, or "
                                          "a config.json model_type such as 'bert'; or pass --kind "
                                          "dense)") from e
                raise
            c = model.config
            vocab = find_vocab(args.checkpoint, args.vocab)
            source = {"checkpoint": base, "vocab": os.path.basename(vocab)}
            doc_default = 512
            what = (f"BERT {c.bert.num_hidden_layers}x{c.bert.hidden_size} "
                    f"({c.bert.num_attention_heads} heads), q-net dims {c.vector_dimensions}, "
                    f"{'shared' if c.shared_encoder else 'separate'} document encoder")
        c = model.config
        maxp = c.bert.max_position_embeddings
        mq = min(args.max_query_tokens, maxp)
        md = min(args.max_document_tokens or doc_default, maxp)
        print(f"loaded {args.checkpoint}: {what} ({time.time() - t0:.1f} s)", file=sys.stderr)
        result = {}

        def write(tmp):
            result["model"] = build_bundle(
                model, tmp, dtype=args.dtype, vocab_path=vocab, model_id=model_id,
                tokenizer=tokenizer_flags(tok_dir), max_query_tokens=mq,
                max_document_tokens=md, source=source, prefixes=prefixes,
                conversion_extra=extra)

        atomic_output(args.out, args.force, write)
        if args.check_out:
            write_check(model, args.check_out)
        files = result["model"]["files"]
        for k, v in files.items():
            print(f"  {v['path']}: {v['bytes']:,} bytes", file=sys.stderr)
        print(f"exported {os.path.abspath(args.out)} ({args.dtype}, {time.time() - t0:.1f} s)",
              file=sys.stderr)
        print(json.dumps({"out": os.path.abspath(args.out), "model": result["model"]}))
        return 0
    except (CheckpointError, QuantizeError) as e:  # QuantizeError: a non-finite weight
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
