#!/usr/bin/env python3
"""Golden vectors for packages/core/src/quant (golden.test.ts): bitsandbytes 4-bit quantisation as its
pure-torch default path computes it, written from the reference text without bitsandbytes installed.

Followed: bitsandbytes/backends/default/ops.py (quantize_4bit, quantize_blockwise, dequantize_*),
bitsandbytes/functional.py (get_4bit_type, create_dynamic_map, quantize_4bit's compress_statistics branch,
QuantState.as_dict) and bitsandbytes/utils.py (pack_dict_to_tensor), all bitsandbytes-foundation/bitsandbytes.
One deliberate difference: the double-quant offset is the float64 mean of the float32 absmax rounded to
float32; torch's own float32 .mean() sums in a build-specific order, so both are recorded (torch_offset).
The dynamic map comes from torch.linspace on the CPU, whose last bits depend on the build's vector width:
this file was written by an AVX2 (8-lane) build, which codebooks.ts reproduces.

Run with torch 1.13 (/usr/bin/python3): python3 make-golden.py > golden.json
"""
import json
import struct

import torch

torch.set_num_threads(1)


def hex32(values):
    return "".join(struct.pack("<f", float(v)).hex() for v in values)


# --- codes -----------------------------------------------------------------------------------------
def four_bit_code(kind):
    if kind == "nf4":
        data = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                0.7229568362236023, 1.0]
    else:
        data = [0, 0.0625, 8.0, 12.0, 4.0, 6.0, 2.0, 3.0, -0, -0.0625, -8.0, -12.0, -4.0, -6.0, -2.0, -3.0]
    t = torch.tensor(data)
    t.div_(t.abs().max())
    return t


def dynamic_map():
    data = []
    for i in range(7):
        boundaries = torch.linspace(0.1, 1, 2 ** i + 1, dtype=torch.float32)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-6 + i)) * means).tolist()
        data += (-(10 ** (-6 + i)) * means).tolist()
    data.append(0)
    data.append(1.0)
    data.sort()
    return torch.tensor(data, dtype=torch.float32)


CODES = {k: four_bit_code(k) for k in ("nf4", "fp4")}
DYN = dynamic_map()


def bounds_order(code):
    order = torch.argsort(code)
    return (code[order[:-1]] + code[order[1:]]) / 2, order


# --- quantisation (default torch path) -----------------------------------------------------------
def scale_blocks(a, blocksize):
    n = a.numel()
    rem = n % blocksize
    full = n - rem
    com = a[:full].reshape(full // blocksize, blocksize)
    absmax = com.abs().max(dim=-1)[0]
    scaled = torch.clamp(com * (1.0 / absmax.clamp(min=1e-38).view(-1, 1)), -1, 1).reshape(-1)
    if rem:
        am = a[full:].abs().max().clamp(min=1e-38)
        absmax = torch.cat([absmax, am.unsqueeze(0)])
        scaled = torch.cat([scaled, torch.clamp(a[full:] / am, -1, 1)])
    return scaled, absmax


def quantize_4bit(a, blocksize, kind):
    bounds, order = bounds_order(CODES[kind])
    scaled, absmax = scale_blocks(a.reshape(-1).float(), blocksize)
    if scaled.numel() % 2:
        scaled = torch.nn.functional.pad(scaled, (0, 1))
    q = torch.bucketize(scaled, bounds, out_int32=True)
    if kind != "nf4":
        q = order[q.long()]  # torch 1.13 indexes with int64 only
    q8 = q.to(torch.uint8)
    return (q8[::2] << 4) | q8[1::2], absmax


def quantize_blockwise(a, blocksize=256):
    bounds = (DYN[:-1] + DYN[1:]) / 2
    scaled, absmax = scale_blocks(a.reshape(-1).float(), blocksize)
    return torch.bucketize(scaled, bounds, out_int32=True).to(torch.uint8), absmax


def dequantize(packed, absmax, kind, blocksize, n):
    idx = torch.empty(packed.numel() * 2, dtype=torch.int64)
    idx[1::2] = (packed & 0xF).long()
    idx[::2] = (packed >> 4).long()
    vals = CODES[kind][idx][:n]
    block = torch.arange(n) // blocksize
    return vals * absmax[block]


def generated(count, scale):
    # Large inputs are not stored: golden.test.ts rebuilds them with the same integer hash and float64
    # arithmetic, rounded to float32 (a uniform value times a magnitude that changes every 37 elements).
    return [((i * 2654435761 % 2 ** 32) / 2 ** 32 - 0.5) * scale * (1 + (i // 37) % 5) for i in range(count)]


def case(name, values, kind, blocksize, double_quant=False, shape=None, keep_dequant=True, gen=None):
    if gen is not None:
        values = generated(*gen)
    a = torch.tensor(values, dtype=torch.float32)
    n = a.numel()
    shape = shape or [n]
    packed, absmax = quantize_4bit(a, blocksize, kind)
    out = {"name": name, "quant_type": kind, "blocksize": blocksize, "double_quant": double_quant, "shape": shape}
    if gen is None:
        out["input"] = hex32(a.tolist())
    else:
        out["input_gen"] = {"count": gen[0], "scale": gen[1]}
    out["packed"] = bytes(packed.tolist()).hex()
    state = {"quant_type": kind, "blocksize": blocksize, "dtype": "float32", "shape": shape}
    if double_quant:
        torch_offset = absmax.mean()
        offset = absmax.double().mean().float()
        q8, nested = quantize_blockwise(absmax - offset)
        real_absmax = DYN[q8.long()] * nested[torch.arange(absmax.numel()) // 256] + offset
        out.update({"absmax_u8": bytes(q8.tolist()).hex(), "nested_absmax": hex32(nested.tolist()),
                    "offset": hex32([offset.item()]), "torch_offset": hex32([torch_offset.item()]),
                    "absmax_f32": hex32(real_absmax.tolist())})
        state.update({"nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": offset.item()})
    else:
        real_absmax = absmax
        out["absmax"] = hex32(absmax.tolist())
    out["quant_state_json"] = json.dumps(state)
    if keep_dequant:
        out["dequant"] = hex32(dequantize(packed, real_absmax, kind, blocksize, n).tolist())
    return out


def nextafter(x, direction):
    return torch.nextafter(torch.tensor([x], dtype=torch.float32), torch.tensor([direction], dtype=torch.float32)).item()


def boundary_values(kind):
    # absmax 1 makes the scale exactly 1, so each element meets its bucket boundary unchanged
    bounds, _ = bounds_order(CODES[kind])
    vals = [1.0]
    for b in bounds.tolist():
        vals += [b, nextafter(b, 2.0), nextafter(b, -2.0)]
    return vals


def main():
    g = torch.Generator().manual_seed(1234)
    randn = lambda n, s=1.0: (torch.randn(n, generator=g) * s).tolist()
    cases = []
    for kind in ("nf4", "fp4"):
        cases.append(case(f"{kind} boundaries: midpoints, one ulp above, one ulp below", boundary_values(kind), kind, 64))
        cases.append(case(f"{kind} scaled boundaries (absmax 3)", [3.0 * v for v in boundary_values(kind)], kind, 64))
        cases.append(case(f"{kind} signed zeros and tiny values", [0.5, -0.0, 0.0, 1e-4, -1e-4, 1e-3, -1e-3, 2e-3, -2e-3, 1.3e-3, -1.3e-3,
                                                                    -0.5, 3e-3, -3e-3], kind, 32))
        cases.append(case(f"{kind} odd n with a partial last block", randn(37), kind, 32, shape=[37]))
        cases.append(case(f"{kind} all-zero full and partial blocks", [0.0] * 32 + randn(32) + [-0.0] * 32 + [0.0] * 5, kind, 32, shape=[101]))
        cases.append(case(f"{kind} outliers", [v if i % 29 else 1e4 * (1 if i % 2 else -1) for i, v in enumerate(randn(128, 0.02))],
                          kind, 64, shape=[2, 64]))
        cases.append(case(f"{kind} subnormal block", [1e-40, -3e-41, 0.0, 2e-45] * 8 + randn(32), kind, 32))
        for bs in (32, 64, 128, 256, 512, 1024, 2048, 4096):
            cases.append(case(f"{kind} blocksize {bs}", None, kind, bs, keep_dequant=bs <= 128, gen=(bs + 3, 0.05)))
        cases.append(case(f"{kind} double quant, 301 blocks (a partial nested block)", None, kind, 32, True,
                          shape=[1, 32 * 300 + 7], keep_dequant=False, gen=(32 * 300 + 7, 0.05)))
        cases.append(case(f"{kind} double quant, 4x16 weight", randn(64, 0.1), kind, 32, True, shape=[4, 16]))
        cases.append(case(f"{kind} double quant, equal absmax everywhere", [0.25, -0.25, 0.1, 0.0] * 64, kind, 64, True, shape=[16, 16]))
        cases.append(case(f"{kind} double quant, 512 blocks", None, kind, 64, True, shape=[256, 128], keep_dequant=False, gen=(64 * 512, 0.03)))
    reprs = [v for v in (0.0231, 1e-5, 1.5e-7, 0.0001, 0.00012345, 1e16, 1e15, 123456789.0, 0.1, 1.0, -0.0, 3.0e-41, 65504.0, 2.5e-3)]
    reprs = [torch.tensor(v, dtype=torch.float32).item() for v in reprs]
    doc = {
        "generator": "make-golden.py, torch " + torch.__version__,
        "nf4_code": hex32(CODES["nf4"].tolist()),
        "fp4_code": hex32(CODES["fp4"].tolist()),
        "fp4_order": bounds_order(CODES["fp4"])[1].tolist(),
        "dynamic_map": hex32(DYN.tolist()),
        "float_reprs": [{"value": hex32([v]), "repr": json.dumps(v)} for v in reprs],
        "cases": cases,
    }
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
