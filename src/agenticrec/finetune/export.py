"""The merged model back into the engine: the base GGUF file with every LoRA-adapted layer replaced by its merged
weight (everything else copied as it is), and a check that llama.cpp's logits on it match PyTorch's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agenticrec.errors import ConfigError

GGUF_LAYERS = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
LAYER = re.compile(r"model\.layers\.(\d+)\.(\w+\.\w+)\.weight")


def gguf_name(name: str) -> str | None:
    """``model.layers.3.self_attn.q_proj.weight`` -> ``blk.3.attn_q.weight``; None for other parameters."""
    match = LAYER.fullmatch(name)
    return f"blk.{match[1]}.{GGUF_LAYERS[match[2]]}.weight" if match and match[2] in GGUF_LAYERS else None


def rotary_layout(weight: np.ndarray, heads: int) -> np.ndarray:
    """A query or key projection in llama.cpp's layout, which pairs the rotary halves of each head row by row
    (the inverse of what transformers undoes when it reads a GGUF file)."""
    return (
        weight.reshape(heads, 2, weight.shape[0] // heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)
    )


def field(reader: Any, key: str) -> Any:
    if key not in reader.fields:
        raise ConfigError(f"the base GGUF has no {key!r}; only llama-architecture models can be merged back")
    return reader.fields[key].contents()


def write_merged(base: Path, target: Path, merged: Any, targets: list[str], out_type: str) -> int:
    """Write ``target``: ``base`` with the merged weights of the adapted layers; returns how many were replaced."""
    from gguf import GGUFReader, GGUFValueType, GGUFWriter

    reader = GGUFReader(base)
    if (architecture := field(reader, "general.architecture")) != "llama":
        raise ConfigError(f"the base GGUF is a {architecture!r} model; only llama-architecture models can be merged")
    heads = {"attn_q": field(reader, "llama.attention.head_count"),
             "attn_k": field(reader, "llama.attention.head_count_kv")}  # fmt: skip
    dtype = np.float16 if out_type == "f16" else np.float32
    replaced: dict[str, np.ndarray] = {}
    for name, tensor in merged.state_dict().items():
        gguf = gguf_name(name)
        if gguf is None or not any(f".{t}." in name for t in targets):
            continue
        weight = tensor.detach().to(torch.float32).numpy()
        kind = gguf.split(".")[2]
        replaced[gguf] = (rotary_layout(weight, heads[kind]) if kind in heads else weight).astype(dtype)
    writer = GGUFWriter(target, architecture)
    for key, value in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue  # written by the writer itself
        value_type = value.types[0]
        sub = value.types[-1] if value_type == GGUFValueType.ARRAY else None
        writer.add_key_value(key, value.contents(), value_type, sub_type=sub)
    for tensor in reader.tensors:
        if tensor.name in replaced:
            new = replaced[tensor.name]
            writer.add_tensor_info(tensor.name, new.shape, new.dtype, new.nbytes)
        else:
            writer.add_tensor_info(tensor.name, tensor.data.shape, tensor.data.dtype, tensor.data.nbytes,
                                   tensor.tensor_type)  # fmt: skip
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in reader.tensors:
        writer.write_tensor_data(replaced.get(tensor.name, tensor.data))
    writer.close()
    return len(replaced)


def logit_gap(gguf_path: Path, model: Any, token_lists: list[list[int]]) -> dict[str, float]:
    """llama.cpp's logits on ``gguf_path`` against the PyTorch model's, over every position of each token list:
    mean and max absolute difference, and the share of positions whose top token agrees."""
    from llama_cpp import Llama

    engine = Llama(model_path=str(gguf_path), n_ctx=max(len(t) for t in token_lists) + 8, logits_all=True,
                   verbose=False, n_threads=torch.get_num_threads())  # fmt: skip
    gaps, agree, positions = [], 0, 0
    try:
        for tokens in token_lists:
            engine.reset()
            engine.eval(tokens)
            ours = np.asarray(engine.scores[: len(tokens)])
            with torch.no_grad():
                theirs = model(torch.tensor([tokens])).logits[0].float().numpy()
            gaps.append(np.abs(ours - theirs))
            agree += int((ours.argmax(1) == theirs.argmax(1)).sum())
            positions += len(tokens)
    finally:
        engine.close()
    every = np.concatenate([g.ravel() for g in gaps])
    return {"mean_abs": float(every.mean()), "max_abs": float(every.max()), "top1_agreement": agree / positions}
