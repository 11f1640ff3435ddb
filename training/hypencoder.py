"""The Hypencoder model (Killingback et al., 2025) in plain PyTorch.

Written from docs/hypencoder-architecture.md (the facts of the authors' public `hypencoder_cb`
code). No `transformers`: BERT is implemented here with the same parameter names as Hugging Face's
`BertModel`, so the released checkpoints (`jfkback/hypencoder.{2,4,6,8}_layer`) load by their
original state-dict names:

  query_encoder.transformer.*            BERT (shared with the document side)
  passage_encoder.transformer.*          the same BERT, stored again or not at all
  query_encoder.hyper_base_matrices.i    (1, out, in)
  query_encoder.weight_query_embeddings.i (1, out, in)
  query_encoder.weight_hyper_projection.i Linear(in, in)
  query_encoder.hyper_base_vectors.j     (1, in)       (a bias is a matrix with out = 1)
  query_encoder.bias_query_embeddings.j  (1, 1, in)
  query_encoder.bias_hyper_projection.j  Linear(in, in)
  query_encoder.key_projections.k / value_projections.k  Linear(H, in), matrices first, then biases

Forward of the query side returns the q-net in the scorer's layout: matrices[i] of shape
(B, in, out) (so y = x @ W) and biases[j] of shape (B, out).
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

BERT_LAYER_NORM_EPS = 1e-12
QNET_LAYER_NORM_EPS = 1e-5  # F.layer_norm's default, used by the hyper-head and the q-net


class CheckpointError(Exception):
    """The folder is not a Hypencoder checkpoint, or its tensors disagree with its config."""


# --------------------------------------------------------------------------------------------
# Configuration


@dataclass
class BertConfig:
    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = BERT_LAYER_NORM_EPS


@dataclass
class HypencoderConfig:
    bert: BertConfig = field(default_factory=BertConfig)
    # The q-net's `vector_dimensions`: [d, h_1, ..., h_L, 1].
    vector_dimensions: List[int] = field(default_factory=lambda: [768] * 7 + [1])
    activation_type: str = "relu"
    do_residual_on_last: bool = False
    shared_encoder: bool = True

    @property
    def weight_shapes(self) -> List[Tuple[int, int]]:
        """(in, out) of every q-net matrix, as the paper's RepeatedDenseBlockConverter lists them."""
        v = self.vector_dimensions
        return [(v[i - 1], v[i]) for i in range(1, len(v))]

    @property
    def bias_shapes(self) -> List[Tuple[int, int]]:
        """(in, out) of every bias: a bias is generated as a matrix with in = width, out = 1."""
        v = self.vector_dimensions
        return [(v[i], 1) for i in range(1, len(v) - 1)]

    @property
    def hidden_layers(self) -> int:
        return len(self.vector_dimensions) - 2

    @property
    def residual(self) -> List[bool]:
        L = self.hidden_layers
        return [j < L - 1 or self.do_residual_on_last for j in range(L)]

    def to_json(self) -> Dict:
        return asdict(self)

    @staticmethod
    def from_json(d: Dict) -> "HypencoderConfig":
        d = dict(d)
        bert = BertConfig(**d.pop("bert", {}))
        return HypencoderConfig(bert=bert, **d)


# --------------------------------------------------------------------------------------------
# BERT (Hugging Face BertModel parameter names; GELU erf form; LayerNorm eps 1e-12)


class BertEmbeddings(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        S = input_ids.shape[1]
        # Positions 0..S-1 and token type 0 everywhere (single-segment input, as the paper's code).
        pos = self.position_embeddings.weight[:S].unsqueeze(0)
        tok = self.token_type_embeddings.weight[0]
        x = self.word_embeddings(input_ids) + pos + tok
        return self.LayerNorm(x)


class BertSelfAttention(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.num_heads = c.num_attention_heads
        self.head_dim = c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        B, S = x.shape[0], x.shape[1]
        return x.view(B, S, self.num_heads, self.head_dim).transpose(1, 2)  # (B, h, S, dh)

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        q = self._split(self.query(x))
        k = self._split(self.key(x))
        v = self._split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores + additive_mask
        probs = F.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v)  # (B, h, S, dh)
        B, S = x.shape[0], x.shape[1]
        return ctx.transpose(1, 2).reshape(B, S, self.num_heads * self.head_dim)


class BertSelfOutput(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(h) + x)


class BertAttention(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, additive_mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))  # erf form


class BertOutput(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.dense = nn.Linear(c.intermediate_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(h) + x)


class BertLayer(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        a = self.attention(x, additive_mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c.num_hidden_layers)])

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layer:
            x = layer(x, additive_mask)
        return x


class BertModel(nn.Module):
    """BertModel without the pooler (Hypencoder never uses it; a checkpoint's pooler.* is ignored)."""

    def __init__(self, c: BertConfig):
        super().__init__()
        self.config = c
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Returns last_hidden_state (B, S, H)."""
        # Hugging Face's extended mask: (1 - mask) * finfo.min, added to every head's scores.
        m = attention_mask[:, None, None, :].to(torch.float32)
        additive = (1.0 - m) * torch.finfo(torch.float32).min
        return self.encoder(self.embeddings(input_ids), additive)


# --------------------------------------------------------------------------------------------
# Hyper-head and the two encoders


def layer_norm_no_affine(x: torch.Tensor, n: int, eps: float = QNET_LAYER_NORM_EPS) -> torch.Tensor:
    """F.layer_norm over the last dim (of static size n) without learned parameters.

    Explicit ones/zeros are passed because torch 1.13's ONNX export of F.layer_norm with
    weight=None emits a LayerNormalization node that onnxruntime rejects; with explicit ones and
    zeros the arithmetic is identical (x*1 + 0).
    """
    ones = torch.ones(n, dtype=x.dtype)
    zeros = torch.zeros(n, dtype=x.dtype)
    return F.layer_norm(x, (n,), ones, zeros, eps)


def hyper_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, dim: int,
                    mask: torch.Tensor) -> torch.Tensor:
    """The paper's scaled_dot_product_attention: softmax((Q·Kᵀ)/sqrt(dim)) over tokens, padded
    tokens set to -inf, then ·V. query (1 or B, out, in), key/value (B, S, in) → (B, out, in)."""
    score = torch.matmul(query, key.transpose(1, 2))  # (B, out, S)
    if dim != 1:
        score = score / math.sqrt(dim)
    score = score.masked_fill(mask.unsqueeze(1) == 0, -float("inf"))
    attention = F.softmax(score, dim=-1)
    return torch.matmul(attention, value)


class Hypencoder(nn.Module):
    """The query encoder: BERT + hyper-head. forward → (matrices, biases) in the scorer's layout."""

    def __init__(self, config: HypencoderConfig, transformer: Optional[BertModel] = None):
        super().__init__()
        self.config = config
        self.transformer = transformer if transformer is not None else BertModel(config.bert)
        H = config.bert.hidden_size
        ws, bs = config.weight_shapes, config.bias_shapes
        self.hyper_base_matrices = nn.ParameterList(
            [nn.Parameter(torch.zeros(1, o, i)) for i, o in ws])
        self.hyper_base_vectors = nn.ParameterList(
            [nn.Parameter(torch.zeros(o, i)) for i, o in bs])
        self.weight_query_embeddings = nn.ParameterList(
            [nn.Parameter(torch.zeros(1, o, i)) for i, o in ws])
        self.bias_query_embeddings = nn.ParameterList(
            [nn.Parameter(torch.zeros(1, o, i)) for i, o in bs])
        self.weight_hyper_projection = nn.ModuleList([nn.Linear(i, i) for i, _ in ws])
        self.bias_hyper_projection = nn.ModuleList([nn.Linear(i, i) for i, _ in bs])
        self.key_projections = nn.ModuleList([nn.Linear(H, i) for i, _ in ws + bs])
        self.value_projections = nn.ModuleList([nn.Linear(H, i) for i, _ in ws + bs])

    def hyper_head(self, last_hidden_state: torch.Tensor, attention_mask: torch.Tensor
                   ) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        ws, bs = self.config.weight_shapes, self.config.bias_shapes
        B = last_hidden_state.shape[0]
        matrices: List[torch.Tensor] = []
        for i, (in_dim, out_dim) in enumerate(ws):
            k = self.key_projections[i](last_hidden_state)
            v = self.value_projections[i](last_hidden_state)
            c = hyper_attention(self.weight_query_embeddings[i], k, v, out_dim, attention_mask)
            p = self.weight_hyper_projection[i](layer_norm_no_affine(F.relu(c), in_dim))
            # (B, out, in) → (B, in, out): y = x @ W
            matrices.append((p + self.hyper_base_matrices[i]).transpose(1, 2))
        biases: List[torch.Tensor] = []
        off = len(ws)
        for j, (in_dim, out_dim) in enumerate(bs):
            k = self.key_projections[off + j](last_hidden_state)
            v = self.value_projections[off + j](last_hidden_state)
            c = hyper_attention(self.bias_query_embeddings[j], k, v, out_dim, attention_mask)
            p = self.bias_hyper_projection[j](layer_norm_no_affine(F.relu(c), in_dim))  # (B, 1, in)
            biases.append((p + self.hyper_base_vectors[j]).reshape(B, in_dim))
        return matrices, biases

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor
                ) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        return self.hyper_head(self.transformer(input_ids, attention_mask), attention_mask)


class TextEncoder(nn.Module):
    """The document encoder: the (shared) BERT's CLS vector, no pooler, no normalization."""

    def __init__(self, transformer: BertModel):
        super().__init__()
        self.transformer = transformer

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.transformer(input_ids, attention_mask)[:, 0]


class HypencoderDualEncoder(nn.Module):
    def __init__(self, config: HypencoderConfig):
        super().__init__()
        self.config = config
        self.query_encoder = Hypencoder(config)
        shared = self.query_encoder.transformer if config.shared_encoder else BertModel(config.bert)
        self.passage_encoder = TextEncoder(shared)


# --------------------------------------------------------------------------------------------
# The q-net (the paper's RepeatedDenseBlockConverter at inference), batched over documents


def qnet_scores(matrices: List[torch.Tensor], biases: List[torch.Tensor], docs: torch.Tensor,
                residual: Optional[List[bool]] = None, eps: float = QNET_LAYER_NORM_EPS
                ) -> torch.Tensor:
    """matrices[j]: (in, out) (or (1, in, out)), biases[j]: (out,) (or (1, out)), docs (N, d).
    Hidden layer j: y = LayerNorm(ReLU(x W_j + b_j)) (+ x when residual[j]); score = x W_L.
    Returns (N,) scores."""
    Ws = [m.reshape(m.shape[-2], m.shape[-1]) for m in matrices]
    bs = [b.reshape(-1) for b in biases]
    L = len(bs)
    if residual is None:
        residual = [j < L - 1 for j in range(L)]
    x = docs
    for j in range(L):
        y = F.relu(x @ Ws[j] + bs[j])
        y = F.layer_norm(y, (y.shape[-1],), eps=eps)
        if residual[j]:
            y = y + x
        x = y
    return (x @ Ws[L]).reshape(-1)


# --------------------------------------------------------------------------------------------
# Checkpoint files: a tiny safetensors reader/writer, pytorch_model.bin, config.json


_ST_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
_ST_NAMES = {v: k for k, v in _ST_DTYPES.items()}


def read_safetensors(path: str) -> Dict[str, torch.Tensor]:
    """safetensors: u64 little-endian header length, a JSON header
    {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then raw
    little-endian tensor bytes (offsets relative to the end of the header)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise CheckpointError(f"{path}: too short to be a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise CheckpointError(f"{path}: header length {n} exceeds the file size")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: unreadable safetensors header ({e})") from e
    data = memoryview(raw)[8 + n:]
    out: Dict[str, torch.Tensor] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _ST_DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise CheckpointError(f"{path}: tensor {name}: unsupported dtype {info.get('dtype')}")
        begin, end = info["data_offsets"]
        shape = list(info["shape"])
        numel = math.prod(shape)
        itemsize = torch.empty((), dtype=dtype).element_size()
        if end - begin != numel * itemsize or end > len(data):
            raise CheckpointError(f"{path}: tensor {name}: byte range [{begin}, {end}) does not "
                                  f"hold shape {shape} of {info['dtype']}")
        if numel == 0:
            t = torch.empty(shape, dtype=dtype)
        else:
            t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(shape)
        out[name] = t
    return out


def write_safetensors(tensors: Dict[str, torch.Tensor], path: str,
                      metadata: Optional[Dict[str, str]] = None) -> None:
    header: Dict = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs = []
    off = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        b = t.numpy().tobytes() if t.dtype != torch.bfloat16 else \
            t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": _ST_NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)  # the format pads the header to 8 bytes with spaces
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_state_dict(checkpoint_dir: str) -> Tuple[Dict[str, torch.Tensor], str]:
    """The state dict of a checkpoint folder: model.safetensors, a sharded
    model.safetensors.index.json, or pytorch_model.bin (also sharded). Returns (tensors, file)."""
    p = lambda name: os.path.join(checkpoint_dir, name)  # noqa: E731
    if os.path.isfile(p("model.safetensors")):
        return read_safetensors(p("model.safetensors")), "model.safetensors"
    for index, reader in (("model.safetensors.index.json", read_safetensors),
                          ("pytorch_model.bin.index.json", _read_bin)):
        if os.path.isfile(p(index)):
            with open(p(index)) as f:
                shards = sorted(set(json.load(f)["weight_map"].values()))
            sd: Dict[str, torch.Tensor] = {}
            for s in shards:
                sd.update(reader(p(s)))
            return sd, index
    if os.path.isfile(p("pytorch_model.bin")):
        return _read_bin(p("pytorch_model.bin")), "pytorch_model.bin"
    raise CheckpointError(
        f"{checkpoint_dir}: not a Hypencoder checkpoint: no model.safetensors or "
        "pytorch_model.bin (the files of a Hugging Face checkpoint such as "
        "jfkback/hypencoder.6_layer)")


def _read_bin(path: str) -> Dict[str, torch.Tensor]:
    try:
        sd = torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - any unpickling failure means an unreadable file
        raise CheckpointError(f"{path}: cannot be read by torch.load ({e})") from e
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict):
        raise CheckpointError(f"{path}: not a state dict")
    return {k: v for k, v in sd.items() if isinstance(v, torch.Tensor)}


def _find_key(obj, key):
    """The first value stored under `key` anywhere in a nested JSON object (depth first)."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            r = _find_key(v, key)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = _find_key(v, key)
            if r is not None:
                return r
    return None


QP = "query_encoder."
QT = "query_encoder.transformer."
PT = "passage_encoder.transformer."
_IGNORED_SUFFIXES = ("embeddings.position_ids", "embeddings.token_type_ids")


def infer_config(sd: Dict[str, torch.Tensor], config_json: Optional[Dict]) -> HypencoderConfig:
    """The architecture from the tensors' shapes, checked against config.json where it says
    something. The released config.json names the BERT only by hub id (`model_name_or_path`), so
    the BERT dimensions come from the tensors; the head count (not visible in any shape) comes
    from `num_attention_heads` if the config has one, else hidden_size / 64 (BERT's rule)."""
    cj = config_json or {}
    if QP + "hyper_base_matrices.0" not in sd:
        raise CheckpointError(
            "not a Hypencoder checkpoint: no tensor named query_encoder.hyper_base_matrices.0 "
            f"(found {len(sd)} tensors, e.g. {', '.join(list(sd)[:3])})")
    if QT + "embeddings.word_embeddings.weight" not in sd:
        raise CheckpointError("not a Hypencoder checkpoint: no "
                              "query_encoder.transformer.embeddings.word_embeddings.weight")

    def shape(name):
        if name not in sd:
            raise CheckpointError(f"checkpoint lacks tensor {name}")
        return tuple(sd[name].shape)

    V, H = shape(QT + "embeddings.word_embeddings.weight")
    P = shape(QT + "embeddings.position_embeddings.weight")[0]
    T = shape(QT + "embeddings.token_type_embeddings.weight")[0]
    n_layers = 0
    while QT + f"encoder.layer.{n_layers}.attention.self.query.weight" in sd:
        n_layers += 1
    if n_layers == 0:
        raise CheckpointError("checkpoint has no query_encoder.transformer.encoder.layer.0.*")
    inter = shape(QT + "encoder.layer.0.intermediate.dense.weight")[0]
    heads = cj.get("num_attention_heads") or _find_key(cj, "num_attention_heads") or (H // 64 or 1)
    if H % heads != 0:
        raise CheckpointError(f"hidden size {H} is not divisible by {heads} attention heads")
    eps = _find_key(cj, "layer_norm_eps") or BERT_LAYER_NORM_EPS
    bert = BertConfig(vocab_size=V, hidden_size=H, num_hidden_layers=n_layers,
                      num_attention_heads=int(heads), intermediate_size=inter,
                      max_position_embeddings=P, type_vocab_size=T, layer_norm_eps=float(eps))

    # q-net dims from hyper_base_matrices.i: (1, out, in)
    n_mat = 0
    while QP + f"hyper_base_matrices.{n_mat}" in sd:
        n_mat += 1
    dims: List[int] = []
    for i in range(n_mat):
        s = shape(QP + f"hyper_base_matrices.{i}")
        if len(s) != 3 or s[0] != 1:
            raise CheckpointError(f"query_encoder.hyper_base_matrices.{i}: expected shape "
                                  f"(1, out, in), got {s}")
        _, o, inn = s
        if i == 0:
            dims.append(inn)
        elif inn != dims[-1]:
            raise CheckpointError(f"query_encoder.hyper_base_matrices.{i}: input size {inn} does "
                                  f"not match the previous output size {dims[-1]}")
        dims.append(o)
    if dims[-1] != 1 or len(dims) < 2:
        raise CheckpointError(f"q-net dims inferred from hyper_base_matrices are {dims}: need "
                              "[d, h_1, ..., h_L, 1] (L >= 0 hidden layers; [d, 1] is an inner product)")
    declared = _find_key(cj, "vector_dimensions")
    if declared is not None and list(declared) != dims:
        raise CheckpointError(f"config.json says vector_dimensions = {list(declared)} but the "
                              f"tensors have q-net dims {dims}")
    if dims[0] != H:
        raise CheckpointError(f"the q-net input size {dims[0]} differs from the BERT hidden size "
                              f"{H}: CLS document vectors would not fit")
    act = _find_key(cj, "activation_type") or "relu"
    if act != "relu":
        raise CheckpointError(f"q-net activation {act!r} is not supported (only relu)")
    dro = _find_key(cj, "do_residual_on_last")
    pooling = _find_key(cj.get("passage_encoder_kwargs", {}), "pooling_type") or "cls"
    if pooling != "cls":
        raise CheckpointError(f"document pooling {pooling!r} is not supported (only cls)")
    shared = cj.get("shared_encoder")
    if shared is None:
        shared = _passage_is_shared(sd)
    return HypencoderConfig(bert=bert, vector_dimensions=dims, activation_type="relu",
                            do_residual_on_last=bool(dro) if dro is not None else False,
                            shared_encoder=bool(shared))


def _passage_is_shared(sd: Dict[str, torch.Tensor]) -> bool:
    pk = [k for k in sd if k.startswith(PT)]
    if not pk:
        return True
    for k in pk:
        q = QT + k[len(PT):]
        if q in sd and not torch.equal(sd[q], sd[k]):
            return False
    return True


def load_checkpoint(checkpoint_dir: str) -> HypencoderDualEncoder:
    """A released Hypencoder checkpoint folder (config.json + model.safetensors or
    pytorch_model.bin) → the model in eval mode, float32."""
    if not os.path.isdir(checkpoint_dir):
        raise CheckpointError(f"{checkpoint_dir}: not a folder")
    cfg_path = os.path.join(checkpoint_dir, "config.json")
    config_json = None
    if os.path.isfile(cfg_path):
        try:
            with open(cfg_path) as f:
                config_json = json.load(f)
        except json.JSONDecodeError as e:
            raise CheckpointError(f"{cfg_path}: not valid JSON ({e})") from e
    sd, _ = read_state_dict(checkpoint_dir)
    sd = _fill_query_transformer(sd)
    config = infer_config(sd, config_json)
    model = HypencoderDualEncoder(config)
    load_state_dict_into(model, sd)
    return model.eval()


def _fill_query_transformer(sd: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """A shared BERT saved once may sit under either prefix (safetensors cannot store two names for
    one tensor, so Hugging Face's save_pretrained keeps only one of them): when the checkpoint has
    passage_encoder.transformer.* but no query_encoder.transformer.*, the query side uses it."""
    if any(k.startswith(QT) for k in sd) or not any(k.startswith(PT) for k in sd):
        return sd
    out = dict(sd)
    for k in [k for k in sd if k.startswith(PT)]:
        out[QT + k[len(PT):]] = out.pop(k)
    return out


def load_state_dict_into(model: HypencoderDualEncoder, sd: Dict[str, torch.Tensor]) -> None:
    """Strict load by the original names: every model parameter must be present with its shape;
    pooler.* and the position_ids buffers are ignored; passage_encoder.transformer.* may be absent
    (shared) or a copy (checked equal), or different weights when the config is not shared."""
    shared = model.config.shared_encoder
    own = model.state_dict()  # lists the shared BERT under both prefixes
    sd = {k: v for k, v in sd.items()
          if not k.endswith(_IGNORED_SUFFIXES) and ".pooler." not in k}
    if shared:
        for k in [k for k in sd if k.startswith(PT)]:
            q = QT + k[len(PT):]
            if q in sd and not torch.equal(sd[q].float(), sd[k].float()):
                raise CheckpointError(f"{k} differs from {q}, but the encoder is shared")
            if q not in sd:
                sd[q] = sd[k]
            del sd[k]
    needed = {k: v for k, v in own.items() if not (shared and k.startswith(PT))}
    missing = [k for k in needed if k not in sd]
    if missing:
        raise CheckpointError(f"checkpoint lacks {len(missing)} tensors the model needs, e.g. "
                              f"{', '.join(missing[:5])}")
    unexpected = [k for k in sd if k not in needed]
    if unexpected:
        raise CheckpointError(f"checkpoint has {len(unexpected)} tensors this model does not "
                              f"know, e.g. {', '.join(unexpected[:5])}")
    fixed = {}
    for k, t in own.items():
        src = sd[QT + k[len(PT):]] if shared and k.startswith(PT) else sd[k]
        if tuple(src.shape) != tuple(t.shape):
            raise CheckpointError(f"{k}: shape {tuple(src.shape)} in the checkpoint, "
                                  f"{tuple(t.shape)} expected")
        fixed[k] = src.to(torch.float32)
    model.load_state_dict(fixed, strict=True)


def save_checkpoint(model: HypencoderDualEncoder, out_dir: str, fmt: str = "safetensors",
                    store_passage: bool = True, store_pooler: bool = True,
                    bert_under: str = "query") -> None:
    """Writes a folder laid out like a released checkpoint (for tests): config.json in the
    HypencoderDualEncoderConfig layout and model.safetensors or pytorch_model.bin with the original
    names (the shared BERT stored twice or once, plus an unused pooler, like BertModel has)."""
    os.makedirs(out_dir, exist_ok=True)
    c = model.config
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if not store_passage:
        if bert_under == "passage":  # the shared BERT only under passage_encoder.transformer.*
            sd = {k: v for k, v in sd.items() if not k.startswith(QT)}
        else:
            sd = {k: v for k, v in sd.items() if not k.startswith(PT)}
    if store_pooler:
        H = c.bert.hidden_size
        g = torch.Generator().manual_seed(7)
        prefix = PT if (not store_passage and bert_under == "passage") else QT
        sd[prefix + "pooler.dense.weight"] = torch.randn(H, H, generator=g) * 0.02
        sd[prefix + "pooler.dense.bias"] = torch.zeros(H)
    config_json = {
        "architectures": ["HypencoderDualEncoder"],
        "model_type": "hypencoder_dual_encoder",
        "query_encoder_type": "hypencoder",
        "passage_encoder_type": "text",
        "query_encoder_kwargs": {
            "model_name_or_path": "google-bert/bert-base-uncased",
            "freeze_transformer": False,
            "embedding_representation": None,
            "base_encoder_output_dim": c.bert.hidden_size,
            "converter_kwargs": {"vector_dimensions": c.vector_dimensions,
                                 "activation_type": c.activation_type,
                                 "do_residual_on_last": c.do_residual_on_last},
        },
        "passage_encoder_kwargs": {"model_name_or_path": "google-bert/bert-base-uncased",
                                   "freeze_transformer": False, "pooling_type": "cls"},
        "shared_encoder": c.shared_encoder,
        "loss_type": ["margin_mse", "cross_entropy"],
        "loss_kwargs": [{}, {"use_in_batch_negatives": True, "only_use_first_item": True}],
        # Not in the released config (their BERT comes from the hub by name); our loader reads it
        # when present, so small test models can have any head count.
        "num_attention_heads": c.bert.num_attention_heads,
        "torch_dtype": "float32",
    }
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config_json, f, indent=2)
    if fmt == "safetensors":
        write_safetensors(sd, os.path.join(out_dir, "model.safetensors"), {"format": "pt"})
    elif fmt == "bin":
        torch.save(sd, os.path.join(out_dir, "pytorch_model.bin"))
    else:
        raise ValueError(fmt)


# --------------------------------------------------------------------------------------------
# Random initialization for tests (not the paper's training init)


def random_bert_init_(bert: BertModel, g: torch.Generator) -> BertModel:
    """BERT weights N(0, 0.02) (a trained BERT's scale) with LayerNorm scales jittered around 1,
    drawn from `g` in parameter order (also the dense encoders' init, training/dense_encoder.py)."""
    with torch.no_grad():
        for name, p in bert.named_parameters():
            mean = 1.0 if "LayerNorm.weight" in name else 0.0
            std = 0.05 if "LayerNorm.weight" in name else 0.02
            p.copy_(torch.randn(p.shape, generator=g) * std + mean)
    return bert


def random_init_(model: HypencoderDualEncoder, seed: int) -> HypencoderDualEncoder:
    """Random weights on the scale of a trained model, so every part of the graph matters in a
    parity test: BERT N(0, 0.02) with jittered LayerNorms; hyper-head projections large enough that
    the generated q-net depends on the query as much as on the base matrices (the paper's init, with
    projection std 1/768², would make the query's contribution vanish)."""
    g = torch.Generator().manual_seed(seed)

    def normal_(t, std, mean=0.0):
        with torch.no_grad():
            t.copy_(torch.randn(t.shape, generator=g) * std + mean)

    qe = model.query_encoder
    bert_modules = [qe.transformer]
    if not model.config.shared_encoder:
        bert_modules.append(model.passage_encoder.transformer)
    for bert in bert_modules:
        random_bert_init_(bert, g)
    H = model.config.bert.hidden_size
    for i, (inn, out) in enumerate(model.config.weight_shapes):
        normal_(qe.hyper_base_matrices[i], math.sqrt(1.0 / inn))
        normal_(qe.weight_query_embeddings[i], 10.0 / math.sqrt(inn))
        normal_(qe.weight_hyper_projection[i].weight, math.sqrt(1.0 / inn) / math.sqrt(inn))
        normal_(qe.weight_hyper_projection[i].bias, 0.01)
    for j, (inn, _) in enumerate(model.config.bias_shapes):
        normal_(qe.hyper_base_vectors[j], 0.1)
        normal_(qe.bias_query_embeddings[j], 10.0 / math.sqrt(inn))
        normal_(qe.bias_hyper_projection[j].weight, 0.1 / math.sqrt(inn))
        normal_(qe.bias_hyper_projection[j].bias, 0.01)
    for lin in list(qe.key_projections) + list(qe.value_projections):
        normal_(lin.weight, 1.0 / math.sqrt(H))
        normal_(lin.bias, 0.02)
    return model


def small_config(hidden: int = 64, layers: int = 2, heads: int = 4, qnet_hidden_layers: int = 2,
                 vocab_size: int = 30522, max_positions: int = 128) -> HypencoderConfig:
    return HypencoderConfig(
        bert=BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=4 * hidden,
                        max_position_embeddings=max_positions),
        vector_dimensions=[hidden] * (qnet_hidden_layers + 1) + [1])


def bert_base_config(qnet_hidden_layers: int) -> HypencoderConfig:
    return HypencoderConfig(bert=BertConfig(), vector_dimensions=[768] * (qnet_hidden_layers + 1) + [1])
