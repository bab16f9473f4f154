#!/usr/bin/env python3
"""Writes the 4-bit Llama fixtures of bnb4.test.ts: a tiny Llama checkpoint (createTinyLlamaCheckpoint,
seed 5) in the layout transformers + bitsandbytes save with load_in_4bit=True, bnb_4bit_quant_type="nf4",
bnb_4bit_use_double_quant=True (every Linear of the decoder quantised, lm_head kept, as
get_keys_to_not_convert keeps the output embedding), plus the dequantised float32 weights the test
compares against.

- bnb4-llama/: packed weights stored as U8 [(n+1)//2, 1] (quant_storage uint8, the default).
- bnb4-llama-bf16/: the same bytes stored as BF16 [n//4, 1] (quant_storage bfloat16, as LLaMA-Factory's
  FSDP+QLoRA writes them).
- dequantized.safetensors: W = quant_map[nibble] * absmax, absmax de-nested (bitsandbytes/functional.py
  dequantize_4bit), float32, under the checkpoint's own names.

Keys and the quant-state JSON follow bitsandbytes/nn/modules.py Linear4bit._save_to_state_dict and
bitsandbytes/functional.py QuantState.as_dict(packed=True); the codes come from the torch replica of
bitsandbytes' default path in packages/core/src/quant/__golden__/make-golden.py (bitsandbytes itself is
not installed here). config.json gets the quantization_config BitsAndBytesConfig.to_dict() writes.

Run (torch 1.13 at /usr/bin/python3): node (createTinyLlamaCheckpoint(<f32 dir>, { seed: 5 })), then
     /usr/bin/python3 make-bnb4-llama.py <f32 dir> <this folder>
"""
import importlib.util
import json
import os
import shutil
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "golden", os.path.join(HERE, "../../../../core/src/quant/__golden__/make-golden.py"))
golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(golden)

DTYPES = {"F32": (torch.float32, 4), "U8": (torch.uint8, 1), "BF16": (torch.bfloat16, 2), "I32": (torch.int32, 4)}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        dtype, _ = DTYPES[info["dtype"]]
        out[name] = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=dtype).reshape(info["shape"])
    return out


def write_safetensors(path, tensors):
    names = {torch.float32: "F32", torch.uint8: "U8", torch.bfloat16: "BF16"}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().view(torch.uint8).numpy().tobytes() if t.dtype != torch.uint8 else t.contiguous().numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def quantize_linear(w, blocksize=64):
    """The tensors Linear4bit._save_to_state_dict writes for one nf4 + double-quant weight, and W dequantised."""
    n = w.numel()
    packed, absmax = golden.quantize_4bit(w, blocksize, "nf4")
    offset = absmax.mean()  # bitsandbytes: offset = _absmax.mean() in float32
    q8, nested = golden.quantize_blockwise(absmax - offset)
    real_absmax = golden.DYN[q8.long()] * nested[torch.arange(absmax.numel()) // 256] + offset
    state = {"quant_type": "nf4", "blocksize": blocksize, "dtype": "float32", "shape": list(w.shape),
             "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": offset.item()}
    blob = torch.tensor(list(json.dumps(state).encode("utf-8")), dtype=torch.uint8)
    tensors = {"": packed.reshape(-1, 1), ".absmax": q8, ".quant_map": golden.CODES["nf4"].clone(),
               ".nested_absmax": nested, ".nested_quant_map": golden.DYN.clone(), ".quant_state.bitsandbytes__nf4": blob}
    return tensors, golden.dequantize(packed, real_absmax, "nf4", blocksize, n).reshape(w.shape)


def main():
    src, out = sys.argv[1], sys.argv[2]
    weights = read_safetensors(os.path.join(src, "model.safetensors"))
    config = json.load(open(os.path.join(src, "config.json")))
    quantized, dequantized = {}, {}
    for name, w in weights.items():
        is_linear = name.endswith("_proj.weight")
        if not is_linear:
            quantized[name] = w
            dequantized[name] = w
            continue
        parts, w_deq = quantize_linear(w)
        for suffix, t in parts.items():
            quantized[name + suffix] = t
        dequantized[name] = w_deq.float()
    for folder, storage in (("bnb4-llama", "uint8"), ("bnb4-llama-bf16", "bfloat16")):
        d = os.path.join(out, folder)
        os.makedirs(d, exist_ok=True)
        for f in ("generation_config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(src, f), os.path.join(d, f))
        tensors = dict(quantized)
        if storage == "bfloat16":
            for name in list(tensors):
                if name.endswith("_proj.weight"):
                    b = tensors[name].reshape(-1)
                    b = torch.cat([b, torch.zeros((-b.numel()) % 2, dtype=torch.uint8)])
                    tensors[name] = b.view(torch.bfloat16).reshape(-1, 1)
        write_safetensors(os.path.join(d, "model.safetensors"), tensors)
        q = {"_load_in_4bit": True, "_load_in_8bit": False, "bnb_4bit_compute_dtype": "float32",
             "bnb_4bit_quant_storage": storage, "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True,
             "llm_int8_enable_fp32_cpu_offload": False, "llm_int8_has_fp16_weight": False,
             "llm_int8_skip_modules": None, "llm_int8_threshold": 6.0, "load_in_4bit": True, "load_in_8bit": False,
             "quant_method": "bitsandbytes"}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump({**config, "quantization_config": q}, f, indent=2, sort_keys=True)
            f.write("\n")
    write_safetensors(os.path.join(out, "dequantized.safetensors"), dequantized)


if __name__ == "__main__":
    main()
