"""Weight-only int8 quantization of an ONNX file (a smaller download; arithmetic stays float32).

    /usr/bin/python3 training/quantize_onnx.py IN.onnx OUT.onnx [--min-elements N]
                                               [--dequantize linear|cast-mul]

Every large float weight matrix (a float32 initializer, or a float16 initializer whose only consumer
is a Cast to float32, as export_onnx.py's --dtype fp16 writes) is stored as int8 with one float32
scale per output channel: symmetric, scale = absmax(channel) / 127 (1 for an all-zero channel), so
each weight is off by at most scale/2 = absmax/254. The graph turns it back into float32:

  * in general by DequantizeLinear (opset >= 13, `axis` = the channel axis) producing the original
    tensor name, so the consumers are unchanged. The channel axis: the output column of a MatMul's
    right operand (last axis), the row of its left operand (second to last), Gemm's output axis of
    B (0 with transB, else 1), the row (second to last axis) for any other consumer (Add, Slice).
    --dequantize cast-mul makes the same values with Cast(int8 -> float) and Mul(scales) instead.
    Why (onnxruntime 1.30, measured on the default model): DequantizeLinear is not constant-folded
    (kept for QDQ fusions), so onnxruntime-web's wasm runs it on every query (+1.1 ms of 1.5), and
    onnxruntime-node on x86-64 fuses DequantizeLinear -> MatMul into MatMulNBits with int8
    activations (accuracy_level 4), a few 1e-2 away from what the wasm build computes exactly.
    Cast and Mul of constants are folded when the session is created, like fp16's Cast, everywhere;
  * a table consumed only by Gather nodes (the token embeddings) is gathered as int8 rows with their
    scales instead: Gather(int8) -> Cast(float) -> Mul(Gather(scales)), the scales stored as
    [rows, 1, ...] so that the gathered scales broadcast over each row (as unsqueezed ones would).
    A query then converts only its own tokens' rows, not the whole vocabulary table on every run.

"Large": at least --min-elements values (default 1024) and at least two axes longer than 1. A vector
(a bias, a LayerNorm weight, a [1, 1, n] query embedding) would need one scale per value, so it
keeps its float32 / float16 storage. Values must be finite.

Exit status: 0 done, 2 the input is not a valid ONNX file (or cannot be quantized: opset < 13 for
DequantizeLinear, non-finite weights), 1 otherwise. The output is written to a temporary file
beside OUT, checked with onnx.checker, and renamed into place, so a failed run leaves nothing; OUT
may be IN.
Prints one JSON line on stdout: counts of rewritten weights, bytes, the largest rounding error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from typing import Dict, List, Optional, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DEFAULT_MIN_ELEMENTS = 1024
MIN_OPSET = 13  # DequantizeLinear's per-axis scales
DEQUANTIZE_FORMS = ("linear", "cast-mul")


class QuantizeError(Exception):
    """The input is not an ONNX file, or cannot be quantized (exit status 2)."""


def _consumers(graph: onnx.GraphProto) -> Dict[str, List[Tuple[onnx.NodeProto, int]]]:
    """tensor name -> [(node, input index)] in the main graph. A name read inside a subgraph (If,
    Loop, Scan bodies, as an outer-scope value) counts as a consumer with node None, so it never
    takes the Gather path (its readers expect the float tensor under its own name)."""
    out: Dict[str, List] = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            out.setdefault(name, []).append((node, i))
        for attr in node.attribute:
            for sub in list(attr.graphs) + ([attr.g] if attr.HasField("g") else []):
                for sub_node in sub.node:
                    for name in sub_node.input:
                        out.setdefault(name, []).append((None, -1))
    return out


def _is_cast_to_float(node: Optional[onnx.NodeProto]) -> bool:
    return node is not None and node.op_type == "Cast" and any(
        a.name == "to" and a.i == TensorProto.FLOAT for a in node.attribute)


def _attr_int(node: onnx.NodeProto, name: str, default: int) -> int:
    for a in node.attribute:
        if a.name == name:
            return a.i
    return default


def _channel_axis(consumer: Tuple[Optional[onnx.NodeProto], int], rank: int) -> int:
    """The axis whose entries are the consumer's output channels (see the module docstring)."""
    node, i = consumer
    if node is not None and node.op_type == "MatMul":
        return rank - 1 if i == 1 else rank - 2
    if node is not None and node.op_type == "Gemm" and i == 1 and rank == 2:
        return 0 if _attr_int(node, "transB", 0) else 1
    return rank - 2


def quantize_per_channel(a: np.ndarray, axis: int) -> Tuple[np.ndarray, np.ndarray, float]:
    """Symmetric int8 along `axis`: q = round(a / s), s = absmax / 127 per index of `axis` (1
    where the channel is all zero). Returns q (int8, a's shape), s (float32, a's rank with 1 on
    every other axis, so it broadcasts) and the largest |a - q·s| as a fraction of the channel's
    absmax."""
    a = a.astype(np.float32)
    if not np.all(np.isfinite(a)):
        raise QuantizeError("non-finite values")
    others = tuple(k for k in range(a.ndim) if k != axis)
    absmax = np.max(np.abs(a), axis=others, keepdims=True)
    scale = np.where(absmax > 0, absmax / np.float32(127), np.float32(1)).astype(np.float32)
    # a channel so small that absmax/127 underflows float32 still needs a positive scale
    scale = np.maximum(scale, np.finfo(np.float32).smallest_subnormal)
    q = np.clip(np.rint(a / scale), -127, 127).astype(np.int8)
    err = np.abs(a - q.astype(np.float32) * scale)
    rel = float(np.max(np.where(absmax > 0, err / np.where(absmax > 0, absmax, 1), 0)))
    return q, scale, rel


def _float_weights(graph: onnx.GraphProto, consumers, min_elements: int):
    """The weights to quantize: (float tensor name, float32 values, initializer to drop, Cast
    node to drop or None). A float16 weight is the Cast's output: its float32 values are exact."""
    graph_inputs = {i.name for i in graph.input}
    found = []
    for init in graph.initializer:
        if init.name in graph_inputs:  # an overridable default, not a constant
            continue
        dims = list(init.dims)
        if int(np.prod(dims)) < min_elements or sum(1 for d in dims if d > 1) < 2:
            continue
        if init.data_type == TensorProto.FLOAT:
            found.append((init.name, numpy_helper.to_array(init), init, None))
        elif init.data_type == TensorProto.FLOAT16:
            uses = consumers.get(init.name, [])
            if len(uses) == 1 and _is_cast_to_float(uses[0][0]):
                cast = uses[0][0]
                a = numpy_helper.to_array(init).astype(np.float32)
                found.append((cast.output[0], a, init, cast))
    return found


def quantize_model(m: onnx.ModelProto, min_elements: int = DEFAULT_MIN_ELEMENTS,
                   dequantize: str = "linear") -> Dict:
    """Rewrites m in place (see the module docstring). Returns counts and the largest rounding
    error as a fraction of the channel's absmax."""
    if dequantize not in DEQUANTIZE_FORMS:
        raise QuantizeError(f"dequantize must be one of {', '.join(DEQUANTIZE_FORMS)}, "
                            f"got {dequantize!r}")
    opset = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), 0)
    if dequantize == "linear" and opset < MIN_OPSET:
        raise QuantizeError(f"opset {opset} < {MIN_OPSET}: per-axis DequantizeLinear needs opset "
                            f"{MIN_OPSET} (re-export with a newer opset)")
    g = m.graph
    consumers = _consumers(g)
    graph_outputs = {o.name for o in g.output}
    drop_inits, drop_nodes = set(), set()
    new_inits: List[onnx.TensorProto] = []
    dequantize_nodes: List[onnx.NodeProto] = []
    after: Dict[int, List[onnx.NodeProto]] = {}  # id(Gather node) -> nodes to insert after it
    stats = {"dequantize": 0, "gather": 0, "max_rel_error": 0.0}

    for name, a, init, cast in _float_weights(g, consumers, min_elements):
        uses = consumers.get(name, [])
        gather_only = bool(uses) and name not in graph_outputs and all(
            n is not None and n.op_type == "Gather" and i == 0 for n, i in uses)
        if gather_only and len({_attr_int(n, "axis", 0) % a.ndim for n, _ in uses}) != 1:
            gather_only = False  # one table gathered along two axes: dequantize it whole instead
        axis = _attr_int(uses[0][0], "axis", 0) % a.ndim if gather_only else \
            _channel_axis(uses[0] if uses else (None, -1), a.ndim)
        try:
            q, scale, rel = quantize_per_channel(a, axis)
        except QuantizeError as e:
            raise QuantizeError(f"initializer {init.name}: {e}") from None
        stats["max_rel_error"] = max(stats["max_rel_error"], rel)
        drop_inits.add(init.name)
        if cast is not None:
            drop_nodes.add(id(cast))
        q_name, s_name = name + "__int8", name + "__scale"
        new_inits.append(numpy_helper.from_array(q, q_name))
        if gather_only:
            # scales as [rows, 1, ...]: Gather(axis 0) of them has the gathered rows' shape with 1
            # on the trailing axes, which broadcasts over Gather(int8)'s output
            rows = scale.reshape([-1] + [1] * (a.ndim - 1 - axis))
            new_inits.append(numpy_helper.from_array(rows, s_name))
            for k, (node, _) in enumerate(uses):
                y = node.output[0]
                tag = f"{y}__q{k}"
                node.input[0] = q_name
                node.output[0] = tag + "_int8"
                after[id(node)] = [
                    helper.make_node("Cast", [tag + "_int8"], [tag + "_f32"], to=TensorProto.FLOAT,
                                     name=f"{node.name or tag}_dequant_cast"),
                    helper.make_node("Gather", [s_name, node.input[1]], [tag + "_scale"], axis=0,
                                     name=f"{node.name or tag}_dequant_scales"),
                    helper.make_node("Mul", [tag + "_f32", tag + "_scale"], [y],
                                     name=f"{node.name or tag}_dequant_mul"),
                ]
            stats["gather"] += 1
        elif dequantize == "linear":
            new_inits.append(numpy_helper.from_array(scale.reshape(-1), s_name))
            zero = np.zeros(scale.size, np.int8)
            new_inits.append(numpy_helper.from_array(zero, name + "__zero"))
            dequantize_nodes.append(helper.make_node(
                "DequantizeLinear", [q_name, s_name, name + "__zero"], [name], axis=axis,
                name=f"dequant_int8_{stats['dequantize']}"))
            stats["dequantize"] += 1
        else:  # cast-mul: the scales keep a's rank (1 off the channel axis) and broadcast
            new_inits.append(numpy_helper.from_array(scale, s_name))
            k = stats["dequantize"]
            dequantize_nodes += [
                helper.make_node("Cast", [q_name], [name + "__f32"], to=TensorProto.FLOAT,
                                 name=f"dequant_int8_cast_{k}"),
                helper.make_node("Mul", [name + "__f32", s_name], [name],
                                 name=f"dequant_int8_mul_{k}"),
            ]
            stats["dequantize"] += 1

    kept = [i for i in g.initializer if i.name not in drop_inits]
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    nodes = []
    for node in g.node:
        if id(node) in drop_nodes:
            continue
        nodes.append(node)
        nodes.extend(after.get(id(node), []))
    del g.node[:]
    # the dequantization nodes read only initializers: first in the list keeps the order topological
    g.node.extend(dequantize_nodes + nodes)
    return stats


def load_onnx(path: str) -> onnx.ModelProto:
    """The model, or QuantizeError when the file is missing or not a valid ONNX model."""
    if not os.path.isfile(path):
        raise QuantizeError(f"{path} does not exist or is not a file")
    try:
        with warnings.catch_warnings():  # protobuf warns before it fails on a non-ONNX file
            warnings.simplefilter("ignore")
            m = onnx.load(path)
    except Exception as e:  # protobuf's DecodeError and friends
        raise QuantizeError(f"{path} is not an ONNX file ({type(e).__name__}: {e})") from None
    if not m.HasField("graph") or len(m.graph.node) == 0:
        raise QuantizeError(f"{path} is not an ONNX file (no graph nodes)")
    try:
        onnx.checker.check_model(m)
    except onnx.checker.ValidationError as e:
        raise QuantizeError(f"{path} is not a valid ONNX model: {str(e).splitlines()[0]}") from None
    return m


def quantize_file(in_path: str, out_path: str, min_elements: int = DEFAULT_MIN_ELEMENTS,
                  dequantize: str = "linear") -> Dict:
    """Quantizes in_path into out_path atomically (temp file beside out_path, checked, renamed)."""
    out_dir = os.path.dirname(os.path.abspath(out_path))
    if os.path.isdir(out_path):
        raise QuantizeError(f"{out_path} is a folder (give the output file's name)")
    if not os.path.isdir(out_dir):
        raise QuantizeError(f"{out_dir} (the folder of {out_path}) does not exist")
    m = load_onnx(in_path)
    bytes_in = os.path.getsize(in_path)
    stats = quantize_model(m, min_elements, dequantize)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(out_path) + ".tmp-", dir=out_dir)
    os.close(fd)
    try:
        onnx.save(m, tmp)
        onnx.checker.check_model(tmp, full_check=True)  # with type and shape inference
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would survive the rename
        os.replace(tmp, out_path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    stats.update({"in": in_path, "out": out_path, "bytes_in": bytes_in,
                  "bytes_out": os.path.getsize(out_path)})
    return stats


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="the ONNX file to quantize")
    ap.add_argument("output", help="the int8 ONNX file to write (may be the input)")
    ap.add_argument("--min-elements", type=int, default=DEFAULT_MIN_ELEMENTS,
                    help="quantize weights with at least this many values "
                         f"(default {DEFAULT_MIN_ELEMENTS})")
    ap.add_argument("--dequantize", choices=DEQUANTIZE_FORMS, default="linear",
                    help="how weight matrices become float32 again: DequantizeLinear (default) or "
                         "Cast + Mul (folded when the session is created; see this file's top)")
    args = ap.parse_args(argv)
    if args.min_elements < 1:
        print("error: --min-elements must be >= 1", file=sys.stderr)
        return 2
    try:
        stats = quantize_file(args.input, args.output, args.min_elements, args.dequantize)
    except QuantizeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    form = "DequantizeLinear" if args.dequantize == "linear" else "Cast + Mul"
    print(f"{args.output}: {stats['dequantize']} weights via {form}, {stats['gather']} via "
          f"Gather; {stats['bytes_in']:,} -> {stats['bytes_out']:,} bytes; max rounding "
          f"{stats['max_rel_error']:.2e} of the channel absmax", file=sys.stderr)
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
