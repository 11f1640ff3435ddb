"""Dense BERT-family retrievers (sentence-transformers folders) as zero-layer Hypencoders.

A q-net with no hidden layer scores a document by x · W_0 (docs/FORMATS.md, "Zero hidden layers"),
so a dense retriever is a Hypencoder whose query encoder outputs W_0 = the pooled query embedding
(shape [B, H, 1]) and whose document encoder outputs the pooled document embedding. The classes
below present the interface of hypencoder.HypencoderDualEncoder (config with bert and
vector_dimensions [H, 1], .query_encoder → ([W_0], []), .passage_encoder → [B, H]), so
export_onnx.py's one export, fp16 and int8 path writes their bundles too.

A folder as sentence-transformers saves it:
  config.json                         Hugging Face BertConfig (model_type "bert")
  model.safetensors | pytorch_model.bin  BertModel weights (names with or without "bert.")
  vocab.txt, tokenizer_config.json    WordPiece vocabulary and do_lower_case / strip_accents
  modules.json                        Transformer, Pooling[, Normalize]
  1_Pooling/config.json               pooling_mode_cls_token or pooling_mode_mean_tokens
  sentence_bert_config.json           optional: max_seq_length
  config_sentence_transformers.json   optional: "prompts" {"query": ..., "document"|"passage": ...}
Older sentence-transformers put the Transformer in a subfolder (modules.json "path": "0_Transformer");
that is read too. A plain BERT folder without modules.json needs pooling= (and normalize=) given.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from hypencoder import (
    BERT_LAYER_NORM_EPS,
    BertConfig,
    BertModel,
    CheckpointError,
    HypencoderConfig,
    random_bert_init_,
    read_safetensors,
    _read_bin,
    write_safetensors,
)

SUPPORTED_MODEL_TYPES = ("bert",)
POOLINGS = ("cls", "mean")
ST_TRANSFORMER = "sentence_transformers.models.Transformer"
ST_POOLING = "sentence_transformers.models.Pooling"
ST_NORMALIZE = "sentence_transformers.models.Normalize"
# 1_Pooling/config.json's switches, by the name this module gives the mode
POOLING_KEYS = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# tensors a BertModel / BertForMaskedLM checkpoint holds that the encoder does not use
_IGNORED_PREFIXES = ("pooler.", "cls.")
_IGNORED_SUFFIXES = ("embeddings.position_ids", "embeddings.token_type_ids")
BERT_TOKENIZERS = ("BertTokenizer", "BertTokenizerFast")


@dataclass
class DenseSpec:
    bert: BertConfig
    pooling: str
    normalize: bool
    query_prefix: str = ""
    document_prefix: str = ""
    max_seq_length: Optional[int] = None
    transformer_dir: str = ""
    weights_file: str = ""
    source: Dict = field(default_factory=dict)


def _read_json(path: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: not valid JSON ({e})") from e


def is_dense_folder(folder: str) -> bool:
    """True when the folder says it is a plain encoder rather than a Hypencoder checkpoint:
    it has modules.json, or config.json names a model_type other than Hypencoder's."""
    if os.path.isfile(os.path.join(folder, "modules.json")):
        return True
    cfg = os.path.join(folder, "config.json")
    if not os.path.isfile(cfg):
        return False
    try:
        cj = _read_json(cfg)
    except CheckpointError:
        return False
    mt = cj.get("model_type") if isinstance(cj, dict) else None
    return isinstance(mt, str) and "hypencoder" not in mt


def _bert_config(path: str) -> BertConfig:
    cj = _read_json(path)
    if not isinstance(cj, dict):
        raise CheckpointError(f"{path}: must be a JSON object")
    mt = cj.get("model_type")
    if mt not in SUPPORTED_MODEL_TYPES:
        raise CheckpointError(
            f"{path}: model_type {mt!r} is not supported: only BERT-family encoders (model_type "
            "'bert': BERT, MiniLM, bge-small, e5-small, gte-small) convert to a dense bundle")
    act = cj.get("hidden_act", "gelu")
    if act != "gelu":
        raise CheckpointError(f"{path}: hidden_act {act!r} is not supported (only 'gelu', the erf form)")
    pet = cj.get("position_embedding_type", "absolute")
    if pet != "absolute":
        raise CheckpointError(f"{path}: position_embedding_type {pet!r} is not supported (only 'absolute')")

    def pos_int(key, default=None):
        v = cj.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise CheckpointError(f"{path}: {key} must be a positive integer, got {v!r}")
        return v

    c = BertConfig(vocab_size=pos_int("vocab_size"), hidden_size=pos_int("hidden_size"),
                   num_hidden_layers=pos_int("num_hidden_layers"),
                   num_attention_heads=pos_int("num_attention_heads"),
                   intermediate_size=pos_int("intermediate_size"),
                   max_position_embeddings=pos_int("max_position_embeddings"),
                   type_vocab_size=pos_int("type_vocab_size", 2),
                   layer_norm_eps=float(cj.get("layer_norm_eps", BERT_LAYER_NORM_EPS)))
    if c.hidden_size % c.num_attention_heads:
        raise CheckpointError(f"{path}: hidden_size {c.hidden_size} is not divisible by "
                              f"num_attention_heads {c.num_attention_heads}")
    return c


def _modules(folder: str) -> Tuple[Optional[str], Optional[str], bool]:
    """modules.json → (transformer subfolder, pooling config file, normalize); (None, None, False)
    when there is no modules.json."""
    path = os.path.join(folder, "modules.json")
    if not os.path.isfile(path):
        return None, None, False
    mods = _read_json(path)
    if not isinstance(mods, list) or not mods:
        raise CheckpointError(f"{path}: must be a non-empty list of modules")
    kinds = []
    transformer, pooling, normalize = None, None, False
    for i, m in enumerate(mods):
        t = m.get("type") if isinstance(m, dict) else None
        sub = m.get("path", "") if isinstance(m, dict) else ""
        if t == ST_TRANSFORMER:
            transformer = sub or ""
        elif t == ST_POOLING:
            pooling = os.path.join(folder, sub, "config.json")
        elif t == ST_NORMALIZE:
            normalize = True
        else:
            raise CheckpointError(
                f"{path}: module {i} has type {t!r}, which is not supported (only Transformer, "
                "Pooling and Normalize: a Dense or other projection after pooling is not)")
        kinds.append(t)
    want = [ST_TRANSFORMER, ST_POOLING] + ([ST_NORMALIZE] if normalize else [])
    if kinds != want:
        raise CheckpointError(f"{path}: modules must be Transformer, Pooling[, Normalize] in that "
                              f"order, got {[k.rsplit('.', 1)[-1] for k in kinds]}")
    return transformer, pooling, normalize


def _pooling_mode(path: str, hidden: int, has_prefix: bool) -> str:
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: missing (modules.json lists a Pooling module)")
    pc = _read_json(path)
    if not isinstance(pc, dict):
        raise CheckpointError(f"{path}: must be a JSON object")
    on = [POOLING_KEYS[k] for k in POOLING_KEYS if pc.get(k) is True]
    unknown = [k for k, v in pc.items() if k.startswith("pooling_mode_") and v is True and k not in POOLING_KEYS]
    if unknown or len(on) != 1 or on[0] not in POOLINGS:
        got = ", ".join(on + unknown) or "none"
        raise CheckpointError(f"{path}: pooling mode {got} is not supported (exactly one of cls "
                              "(pooling_mode_cls_token) or mean (pooling_mode_mean_tokens))")
    dim = pc.get("word_embedding_dimension")
    if dim is not None and dim != hidden:
        raise CheckpointError(f"{path}: word_embedding_dimension {dim} differs from config.json's "
                              f"hidden_size {hidden}")
    if pc.get("include_prompt") is False and has_prefix:
        raise CheckpointError(f"{path}: include_prompt false (the prefix left out of the pooling) is "
                              "not supported")
    return on[0]


def _prompts(folder: str) -> Tuple[str, str]:
    """config_sentence_transformers.json's prompts: query, and document (or passage)."""
    path = os.path.join(folder, "config_sentence_transformers.json")
    if not os.path.isfile(path):
        return "", ""
    cj = _read_json(path)
    prompts = cj.get("prompts") if isinstance(cj, dict) else None
    if not prompts:
        return "", ""
    if not isinstance(prompts, dict) or not all(isinstance(v, str) for v in prompts.values()):
        raise CheckpointError(f"{path}: prompts must map names to strings")
    doc = prompts.get("document", prompts.get("passage", ""))
    if "document" in prompts and "passage" in prompts and prompts["document"] != prompts["passage"]:
        raise CheckpointError(f"{path}: prompts 'document' and 'passage' differ; pass "
                              "--document-prefix to choose")
    return prompts.get("query", ""), doc


def read_vocab_size(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        return sum(1 for _ in f)


def read_dense_spec(folder: str, pooling: Optional[str] = None, normalize: Optional[bool] = None,
                    query_prefix: Optional[str] = None, document_prefix: Optional[str] = None,
                    vocab: Optional[str] = None) -> DenseSpec:
    """Everything but the weights, checked: architecture, pooling, normalization, prefixes,
    tokenizer against config.json. Explicit arguments win over the folder's files only where the
    folder says nothing; a contradiction is an error."""
    if not os.path.isdir(folder):
        raise CheckpointError(f"{folder}: not a folder")
    sub, pool_cfg, st_normalize = _modules(folder)
    tdir = os.path.join(folder, sub) if sub else folder
    cfg_path = os.path.join(tdir, "config.json")
    if not os.path.isfile(cfg_path):
        raise CheckpointError(f"{cfg_path}: missing (a dense encoder folder holds the Hugging Face "
                              "BERT config.json)")
    bert = _bert_config(cfg_path)
    qp, dp = _prompts(folder)
    qp = qp if query_prefix is None else query_prefix
    dp = dp if document_prefix is None else document_prefix
    if pool_cfg is None:
        if pooling is None:
            raise CheckpointError(f"{os.path.join(folder, 'modules.json')}: missing, so the folder "
                                  "does not say how token vectors are pooled: pass --pooling cls|mean "
                                  "(and --normalize if the model's vectors are L2-normalized)")
        mode, norm = pooling, bool(normalize)
    else:
        mode = _pooling_mode(pool_cfg, bert.hidden_size, bool(qp or dp))
        if pooling is not None and pooling != mode:
            raise CheckpointError(f"{pool_cfg}: says {mode} pooling but --pooling {pooling} was given")
        norm = st_normalize if normalize is None else normalize
        if normalize is not None and normalize != st_normalize:
            raise CheckpointError(f"{os.path.join(folder, 'modules.json')}: "
                                  f"{'has' if st_normalize else 'has no'} Normalize module but "
                                  f"--{'no-' if not normalize else ''}normalize was given")
    if mode not in POOLINGS:
        raise CheckpointError(f"pooling {mode!r} is not supported (only {', '.join(POOLINGS)})")

    tc_path = os.path.join(tdir, "tokenizer_config.json")
    if os.path.isfile(tc_path):
        tc = _read_json(tc_path)
        cls = tc.get("tokenizer_class") if isinstance(tc, dict) else None
        if cls is not None and cls not in BERT_TOKENIZERS:
            raise CheckpointError(f"{tc_path}: tokenizer_class {cls!r} is not a BERT WordPiece "
                                  f"tokenizer ({' or '.join(BERT_TOKENIZERS)})")
    vocab_path = vocab or os.path.join(tdir, "vocab.txt")
    if not os.path.isfile(vocab_path):
        raise CheckpointError(f"{vocab_path}: missing (the WordPiece vocabulary; a folder with only "
                              "tokenizer.json needs --vocab)")
    n = read_vocab_size(vocab_path)
    if n != bert.vocab_size:
        raise CheckpointError(f"{vocab_path} has {n} entries but {cfg_path} says vocab_size "
                              f"{bert.vocab_size}: the tokenizer does not match the model")

    sbc = os.path.join(tdir, "sentence_bert_config.json")
    max_seq = None
    if os.path.isfile(sbc):
        v = _read_json(sbc).get("max_seq_length")
        if v is not None:
            if isinstance(v, bool) or not isinstance(v, int) or v < 2:
                raise CheckpointError(f"{sbc}: max_seq_length must be an integer >= 2, got {v!r}")
            max_seq = v
    weights = next((w for w in WEIGHT_FILES if os.path.isfile(os.path.join(tdir, w))), None)
    if weights is None:
        raise CheckpointError(f"{tdir}: has none of {', '.join(WEIGHT_FILES)} (the encoder's weights)")
    return DenseSpec(bert=bert, pooling=mode, normalize=norm, query_prefix=qp, document_prefix=dp,
                     max_seq_length=max_seq, transformer_dir=tdir, weights_file=weights,
                     source={"config": os.path.relpath(cfg_path, folder),
                             "weights": os.path.relpath(os.path.join(tdir, weights), folder),
                             "vocab": os.path.basename(vocab_path),
                             "pooling_config": os.path.relpath(pool_cfg, folder) if pool_cfg else None})


# --------------------------------------------------------------------------------------------
# The model


class PooledEncoder(nn.Module):
    """BERT → CLS or attention-masked mean of the last hidden state → optional L2 normalization
    (sentence-transformers' Pooling and Normalize: mean = Σ mask·h / max(Σ mask, 1e-9),
    normalize = x / max(‖x‖, 1e-12))."""

    def __init__(self, transformer: BertModel, pooling: str, normalize: bool):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(pooling)
        self.transformer = transformer
        self.pooling = pooling
        self.normalize = normalize

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        h = self.transformer(input_ids, attention_mask)
        if self.pooling == "cls":
            x = h[:, 0]
        else:
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            x = (h * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)
        if self.normalize:
            x = F.normalize(x, p=2.0, dim=1)
        return x


class DenseQueryEncoder(nn.Module):
    """The zero-layer q-net: W_0 = the pooled query embedding as a [B, H, 1] matrix, no biases."""

    def __init__(self, pooled: PooledEncoder):
        super().__init__()
        self.pooled = pooled

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor
                ) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        return [self.pooled(input_ids, attention_mask).unsqueeze(-1)], []


class DenseDualEncoder(nn.Module):
    doc_output = "embedding"  # doc_encoder.onnx's output name (a Hypencoder's is "cls")

    def __init__(self, spec: DenseSpec):
        super().__init__()
        self.spec = spec
        H = spec.bert.hidden_size
        self.config = HypencoderConfig(bert=spec.bert, vector_dimensions=[H, 1], shared_encoder=True)
        pooled = PooledEncoder(BertModel(spec.bert), spec.pooling, spec.normalize)
        self.passage_encoder = pooled
        self.query_encoder = DenseQueryEncoder(pooled)


def _bert_state_dict(path: str) -> Dict[str, torch.Tensor]:
    sd = read_safetensors(path) if path.endswith(".safetensors") else _read_bin(path)
    out = {}
    for k, v in sd.items():
        name = k[len("bert."):] if k.startswith("bert.") else k
        if name.startswith(_IGNORED_PREFIXES) or name.endswith(_IGNORED_SUFFIXES):
            continue
        out[name] = v
    return out


def load_dense(folder: str, **kw) -> DenseDualEncoder:
    """A sentence-transformers style folder → the model in eval mode, float32. Every BertModel
    tensor must be present with the shape config.json implies."""
    spec = read_dense_spec(folder, **kw)
    model = DenseDualEncoder(spec)
    wpath = os.path.join(spec.transformer_dir, spec.weights_file)
    sd = _bert_state_dict(wpath)
    bert = model.passage_encoder.transformer
    own = bert.state_dict()
    missing = [k for k in own if k not in sd]
    if missing:
        raise CheckpointError(f"{wpath}: lacks {len(missing)} BERT tensors, e.g. "
                              f"{', '.join(missing[:4])} (not a BertModel checkpoint?)")
    unexpected = [k for k in sd if k not in own]
    if unexpected:
        raise CheckpointError(f"{wpath}: has {len(unexpected)} tensors a BertModel of this config "
                              f"does not have, e.g. {', '.join(unexpected[:4])}")
    for k, t in own.items():
        if tuple(sd[k].shape) != tuple(t.shape):
            raise CheckpointError(f"{wpath}: {k} has shape {tuple(sd[k].shape)} but config.json "
                                  f"implies {tuple(t.shape)}")
    bert.load_state_dict({k: sd[k].to(torch.float32) for k in own}, strict=True)
    return model.eval()


# --------------------------------------------------------------------------------------------
# Random folders for tests (no weights can be downloaded here)


def write_random_dense(out_dir: str, bert: BertConfig, pooling: str, normalize: bool, seed: int,
                       vocab_path: str, prompts: Optional[Dict[str, str]] = None,
                       fmt: str = "safetensors", max_seq_length: int = 256,
                       lowercase: bool = True) -> None:
    """A folder laid out as sentence-transformers saves one (BertModel names, plus the unused
    pooler), randomly initialized: N(0, 0.02) weights with jittered LayerNorms."""
    os.makedirs(os.path.join(out_dir, "1_Pooling"), exist_ok=True)
    model = BertModel(bert)
    random_bert_init_(model, torch.Generator().manual_seed(seed))
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    g = torch.Generator().manual_seed(seed + 1)
    H = bert.hidden_size
    sd["pooler.dense.weight"] = torch.randn(H, H, generator=g) * 0.02
    sd["pooler.dense.bias"] = torch.zeros(H)
    if fmt == "safetensors":
        write_safetensors(sd, os.path.join(out_dir, "model.safetensors"), {"format": "pt"})
    else:
        torch.save(sd, os.path.join(out_dir, "pytorch_model.bin"))

    def dump(name, obj):
        with open(os.path.join(out_dir, name), "w") as f:
            json.dump(obj, f, indent=2)

    dump("config.json", {
        "architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
        "attention_probs_dropout_prob": 0.1, "hidden_dropout_prob": 0.1,
        "hidden_size": H, "intermediate_size": bert.intermediate_size,
        "num_attention_heads": bert.num_attention_heads,
        "num_hidden_layers": bert.num_hidden_layers,
        "max_position_embeddings": bert.max_position_embeddings,
        "type_vocab_size": bert.type_vocab_size, "vocab_size": bert.vocab_size,
        "layer_norm_eps": bert.layer_norm_eps, "position_embedding_type": "absolute",
        "pad_token_id": 0, "torch_dtype": "float32"})
    modules = [{"idx": 0, "name": "0", "path": "", "type": ST_TRANSFORMER},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": ST_POOLING}]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": ST_NORMALIZE})
        os.makedirs(os.path.join(out_dir, "2_Normalize"), exist_ok=True)
    dump("modules.json", modules)
    pool = {k: False for k in POOLING_KEYS}
    pool["pooling_mode_cls_token" if pooling == "cls" else "pooling_mode_mean_tokens"] = True
    dump(os.path.join("1_Pooling", "config.json"),
         {"word_embedding_dimension": H, **pool, "include_prompt": True})
    dump("sentence_bert_config.json", {"max_seq_length": max_seq_length, "do_lower_case": False})
    dump("tokenizer_config.json", {"tokenizer_class": "BertTokenizer", "do_lower_case": lowercase,
                                   "strip_accents": None, "model_max_length": max_seq_length})
    dump("config_sentence_transformers.json",
         {"prompts": prompts or {}, "default_prompt_name": None, "similarity_fn_name": "cosine"
          if normalize else "dot"})
    with open(vocab_path, "rb") as src, open(os.path.join(out_dir, "vocab.txt"), "wb") as dst:
        dst.write(src.read())
