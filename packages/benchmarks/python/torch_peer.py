"""PyTorch peer of `mmft bench --peer torch`: the same CLIP, causal-LM (Llama, OPT), BLIP-2 and LLaVA shapes,
batch, loss and optimizer step, and the same greedy decoding with a KV cache, in plain PyTorch on the CPU,
timed the way mmft is timed (packages/benchmarks/src/child/).

Our own code, HF-CLIP-shaped (transformers/models/clip/modeling_clip.py): pre-LN blocks,
quick_gelu, patch-embedding conv, causal + padding mask, eos pooling, bias-free projections,
logit scale, symmetric InfoNCE (open_clip ClipLoss), torch.optim.AdamW, clip_grad_norm_; LoRA on
named Linears as PEFT's lora.Linear. Reads one JSON spec (argv[1]) and prints `RESULT <json>`.
Never imported by tests or CI: install torch with scripts/install-torch-peer.sh.
"""
import json
import math
import os
import re
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


def call_block(layer, x, *args):
    """One transformer block. When enable_checkpointing marked it and the model trains, it runs under
    torch.utils.checkpoint with use_reentrant=False: autograd keeps only the block's inputs and the backward
    recomputes it (transformers' GradientCheckpointingLayer.__call__, src/transformers/modeling_layers.py)."""
    if getattr(layer, "checkpointed", False) and layer.training and torch.is_grad_enabled():
        return checkpoint(layer, x, *args, use_reentrant=False)
    return layer(x, *args)


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.scale = self.head_dim ** -0.5
        self.k_proj, self.v_proj, self.q_proj, self.out_proj = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, x, mask):
        b, t, d = x.shape
        split = lambda y: y.view(b, t, self.heads, self.head_dim).transpose(1, 2)
        q, k, v = split(self.q_proj(x) * self.scale), split(self.k_proj(x)), split(self.v_proj(x))
        scores = q @ k.transpose(-1, -2)
        if mask is not None:
            scores = scores + mask
        out = torch.softmax(scores, dim=-1) @ v
        return self.out_proj(out.transpose(1, 2).reshape(b, t, d))


class Layer(nn.Module):
    def __init__(self, dim, heads, mlp, eps):
        super().__init__()
        self.self_attn = Attention(dim, heads)
        self.layer_norm1 = nn.LayerNorm(dim, eps=eps)
        self.fc1, self.fc2 = nn.Linear(dim, mlp), nn.Linear(mlp, dim)
        self.layer_norm2 = nn.LayerNorm(dim, eps=eps)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.fc2(quick_gelu(self.fc1(self.layer_norm2(x))))


def encoder(cfg):
    return nn.ModuleList(Layer(cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"], cfg["layer_norm_eps"]) for _ in range(cfg["num_hidden_layers"]))


class Clip(nn.Module):
    def __init__(self, config):
        super().__init__()
        v, t = config["vision_config"], config["text_config"]
        self.v, self.t = v, t
        grid = v["image_size"] // v["patch_size"]
        self.class_embedding = nn.Parameter(torch.randn(v["hidden_size"]) * v["hidden_size"] ** -0.5)
        self.patch_embedding = nn.Conv2d(3, v["hidden_size"], v["patch_size"], v["patch_size"], bias=False)
        self.vision_position = nn.Embedding(grid * grid + 1, v["hidden_size"])
        self.pre_layrnorm = nn.LayerNorm(v["hidden_size"], eps=v["layer_norm_eps"])
        self.vision_layers = encoder(v)
        self.post_layernorm = nn.LayerNorm(v["hidden_size"], eps=v["layer_norm_eps"])
        self.token_embedding = nn.Embedding(t["vocab_size"], t["hidden_size"])
        self.text_position = nn.Embedding(t["max_position_embeddings"], t["hidden_size"])
        self.text_layers = encoder(t)
        self.final_layer_norm = nn.LayerNorm(t["hidden_size"], eps=t["layer_norm_eps"])
        self.visual_projection = nn.Linear(v["hidden_size"], config["projection_dim"], bias=False)
        self.text_projection = nn.Linear(t["hidden_size"], config["projection_dim"], bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(float(config["logit_scale_init_value"])))
        self.hf_init()

    def hf_init(self):
        """CLIPPreTrainedModel._init_weights (factor 1): normal inits by module kind."""
        for tower, layers in ((self.v, self.vision_layers), (self.t, self.text_layers)):
            d, n = tower["hidden_size"], tower["num_hidden_layers"]
            for layer in layers:
                for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    nn.init.normal_(getattr(layer.self_attn, name).weight, std=d ** -0.5 * (2 * n) ** -0.5)
                nn.init.normal_(layer.fc1.weight, std=(2 * d) ** -0.5)
                nn.init.normal_(layer.fc2.weight, std=d ** -0.5 * (2 * n) ** -0.5)
                for m in layer.modules():
                    if isinstance(m, nn.Linear):
                        nn.init.zeros_(m.bias)
        nn.init.normal_(self.patch_embedding.weight, std=self.v["initializer_range"])
        nn.init.normal_(self.vision_position.weight, std=self.v["initializer_range"])
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.text_position.weight, std=0.02)
        nn.init.normal_(self.visual_projection.weight, std=self.v["hidden_size"] ** -0.5)
        nn.init.normal_(self.text_projection.weight, std=self.t["hidden_size"] ** -0.5)

    def image_features(self, pixels):
        x = self.patch_embedding(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.expand(x.shape[0], 1, -1), x], dim=1) + self.vision_position.weight
        x = self.pre_layrnorm(x)
        for layer in self.vision_layers:
            x = call_block(layer, x, None)
        return self.visual_projection(self.post_layernorm(x[:, 0]))

    def text_features(self, ids, mask):
        b, t = ids.shape
        x = self.token_embedding(ids) + self.text_position.weight[:t]
        neg = torch.finfo(x.dtype).min
        causal = torch.full((t, t), neg).triu(1)
        additive = causal[None, None] + (1.0 - mask[:, None, None, :].to(x.dtype)) * neg
        for layer in self.text_layers:
            x = call_block(layer, x, additive)
        x = self.final_layer_norm(x)
        eos = (ids == self.t["eos_token_id"]).int().argmax(dim=-1)
        return self.text_projection(x[torch.arange(b), eos])


class LoraLinear(nn.Module):
    """y = base(x) + (alpha / r) · B(A(x)), A Kaiming-uniform, B zeros (peft/tuners/lora/layer.py)."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base, self.scaling = base, alpha / r
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


def apply_lora(model, lora):
    for p in model.parameters():
        p.requires_grad_(False)
    for layer in list(model.vision_layers) + list(model.text_layers):
        for name in lora["target_modules"]:
            setattr(layer.self_attn, name, LoraLinear(getattr(layer.self_attn, name), lora["r"], lora["lora_alpha"]))


def clip_loss(model, image, text, max_scale):
    image, text = F.normalize(image, dim=-1), F.normalize(text, dim=-1)
    logits = model.logit_scale.clamp(max=max_scale).exp() * image @ text.t()
    labels = torch.arange(image.shape[0])
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2


def synthetic_batch(spec, k):
    """The closed-form batches of src/child/synthetic.ts."""
    b, s_img, t, v = spec["batch"], spec["imageSize"], spec["textLength"], spec["vocabSize"]
    s = (k * b + torch.arange(b, dtype=torch.float64)).view(b, 1, 1, 1)
    c = torch.arange(3, dtype=torch.float64).view(1, 3, 1, 1)
    y = torch.arange(s_img, dtype=torch.float64).view(1, 1, s_img, 1)
    x = torch.arange(s_img, dtype=torch.float64).view(1, 1, 1, s_img)
    pixels = torch.sin(0.05 * (x + 1) * (c + 1) + 0.11 * y * (c + 1) + 0.7 * s).float()
    ids = torch.zeros(b, t, dtype=torch.long)
    mask = torch.zeros(b, t, dtype=torch.long)
    for row in range(b):
        sample = k * b + row
        eos = 8 + (13 * sample) % (t - 9)
        for pos in range(t):
            ids[row, pos] = spec["bosId"] if pos == 0 else 1 + (sample * 7919 + pos * 104729) % (v - 3) if pos < eos else spec["eosId"] if pos == eos else 0
            mask[row, pos] = 1 if pos <= eos else 0
    return pixels, ids, mask


def param_groups(model, weight_decay):
    """Decay rules of trainer-standard optim/param-groups.ts: no decay for norms, embeddings, 1-D, bias, logit_*."""
    structural = set()
    for prefix, m in model.named_modules():
        if isinstance(m, (nn.LayerNorm, nn.Embedding)):
            structural.update(f"{prefix}.{n}" if prefix else n for n, _ in m.named_parameters(recurse=False))
    decay, rest = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        leaf = name.rsplit(".", 1)[-1]
        no = name in structural or p.dim() < 2 or leaf == "bias" or leaf.startswith("logit_")
        (rest if no else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def blas_libraries():
    try:
        with open("/proc/self/maps") as maps:
            return sorted({line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line})
    except OSError:
        return []


def engine_info(spec):
    return {"torch": torch.__version__, "threads": torch.get_num_threads(), "interop": torch.get_num_interop_threads(), "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"), "blas": blas_libraries()}


def timing(ms):
    q = statistics.quantiles(ms, n=4, method="inclusive") if len(ms) > 1 else [ms[0]] * 3
    med = statistics.median(ms)
    return {"medianMs": med, "minMs": min(ms), "maxMs": max(ms), "iqrPercent": 100 * (q[2] - q[0]) / med if med > 0 else 0, "samples": len(ms)}


def profile_rows(run):
    from torch.autograd import profiler
    with profiler.profile() as prof:
        run()
    rows = [(e.key, e.count, e.self_cpu_time_total / 1000) for e in prof.key_averages()]
    total = sum(r[2] for r in rows) or 1
    rows.sort(key=lambda r: -r[2])
    return [{"name": n, "calls": c, "ms": ms, "percent": 100 * ms / total} for n, c, ms in rows[:25]]


def run_train(spec):
    torch.manual_seed(spec["seed"])
    model = Clip(spec["config"])
    if spec.get("lora"):
        apply_lora(model, spec["lora"])
    if spec["strategy"] == "lock-image":
        for name, p in model.named_parameters():
            if name.startswith(("class_embedding", "patch_embedding", "vision_position", "pre_layrnorm", "vision_layers", "post_layernorm", "visual_projection")):
                p.requires_grad_(False)
    model.train()
    memory = apply_memory(model, spec)
    opt = torch.optim.AdamW(param_groups(model, spec["weight_decay"]), lr=spec["lr"], betas=tuple(spec["betas"]), eps=spec["eps"])
    trainable = [p for p in model.parameters() if p.requires_grad]
    pool = [synthetic_batch(spec["synthetic"], k) for k in range(spec["poolBatches"])]

    def step(i):
        pixels, ids, mask = pool[i % len(pool)]
        opt.zero_grad(set_to_none=True)
        loss = clip_loss(model, model.image_features(pixels), model.text_features(ids, mask), spec["maxLogitScale"])
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(trainable, spec["maxGradNorm"])
        value = loss.item()  # read back every step, as the mmft step does
        if not (math.isfinite(value) and math.isfinite(float(norm))):
            raise RuntimeError(f"loss {value}, gradient norm {norm}")
        opt.step()
        return value

    total, times, loss = spec["warmup"] + spec["timed"], [], float("nan")
    for i in range(total):
        start = time.perf_counter()
        loss = step(i)
        if i >= spec["warmup"]:
            times.append(1000 * (time.perf_counter() - start))
    profile = profile_rows(lambda: step(total)) if spec.get("profile") else None
    t = timing(times)
    return {"throughput": 1000 * spec["synthetic"]["batch"] / t["medianMs"], "unit": "samples/s", "timing": t, "loss": loss, "steps": total,
            "trainableParams": sum(p.numel() for p in trainable), "totalParams": sum(p.numel() for p in model.parameters()), "profile": profile, "memory": memory}


def run_embed(spec):
    torch.manual_seed(spec["seed"])
    model = Clip(spec["config"]).eval()
    pool = [synthetic_batch(spec["synthetic"], k)[0] for k in range(spec["poolBatches"])]
    times = []
    with torch.no_grad():
        for i in range(spec["warmup"] + spec["timed"]):
            start = time.perf_counter()
            F.normalize(model.image_features(pool[i % len(pool)]), dim=-1).numpy()
            if i >= spec["warmup"]:
                times.append(1000 * (time.perf_counter() - start))
    t = timing(times)
    return {"throughput": 1000 * spec["synthetic"]["batch"] / t["medianMs"], "unit": "images/s", "timing": t}



def run_text_embed(spec):
    """CLIP text embeddings (src/child/run-embed-text.ts): the padded synthetic texts through the text tower, normalised, on the host."""
    torch.manual_seed(spec["seed"])
    model = Clip(spec["config"]).eval()
    pool = [synthetic_batch(spec["synthetic"], k)[1:] for k in range(spec["poolBatches"])]
    times = []
    with torch.no_grad():
        for i in range(spec["warmup"] + spec["timed"]):
            ids, mask = pool[i % len(pool)]
            start = time.perf_counter()
            F.normalize(model.text_features(ids, mask), dim=-1).numpy()
            if i >= spec["warmup"]:
                times.append(1000 * (time.perf_counter() - start))
    t = timing(times)
    return {"throughput": 1000 * spec["synthetic"]["batch"] / t["medianMs"], "unit": "texts/s", "timing": t}

# --- Causal language models -------------------------------------------------------------------
# Our own plain-PyTorch Llama and OPT with the shapes and math of transformers' models/llama/
# modeling_llama.py and models/opt/modeling_opt.py (eager attention, no torch.compile), a KV cache of
# our own for generation, and the synthetic batches of src/child/lm-synthetic.ts.

LM_ACTIVATIONS = {"relu": F.relu, "silu": F.silu, "gelu": F.gelu, "gelu_new": lambda x: F.gelu(x, approximate="tanh")}


class KvCache:
    """Per layer keys and values [B, Hkv, S, hd], grown along S (transformers' DynamicCache)."""

    def __init__(self):
        self.keys, self.values = [], []

    def length(self):
        return self.keys[0].shape[2] if self.keys else 0

    def update(self, layer, k, v):
        if layer == len(self.keys):
            self.keys.append(k)
            self.values.append(v)
        else:
            self.keys[layer] = torch.cat([self.keys[layer], k], dim=2)
            self.values[layer] = torch.cat([self.values[layer], v], dim=2)
        return self.keys[layer], self.values[layer]


def causal_lm_mask(mask2d, query, past, dtype):
    """Additive mask [B, 1, T, past + T]: the dtype's minimum above the diagonal and on padded keys."""
    total = past + query
    above = torch.arange(total).view(1, total) > torch.arange(past, total).view(query, 1)
    blocked = above[None, None] | (mask2d[:, None, None, :] == 0)
    return torch.zeros(blocked.shape, dtype=dtype).masked_fill(blocked, torch.finfo(dtype).min)


def rotate_half(x):
    first, second = x.chunk(2, dim=-1)
    return torch.cat([-second, first], dim=-1)


class LmAttention(nn.Module):
    """Causal self-attention with grouped key/value heads; q/k/v/output projections by HF name."""

    def __init__(self, dim, heads, kv_heads, head_dim, bias, out_name, scale_queries):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim, self.out_name = heads, kv_heads, head_dim, out_name
        self.scale, self.scale_queries = head_dim ** -0.5, scale_queries
        self.q_proj = nn.Linear(dim, heads * head_dim, bias=bias)
        self.k_proj = nn.Linear(dim, kv_heads * head_dim, bias=bias)
        self.v_proj = nn.Linear(dim, kv_heads * head_dim, bias=bias)
        setattr(self, out_name, nn.Linear(heads * head_dim, dim, bias=bias))

    def forward(self, x, mask, cache, layer, rotary):
        b, t, _ = x.shape
        q = self.q_proj(x)
        if self.scale_queries:  # OPTAttention scales q_proj(x) before q·kᵀ
            q = q * self.scale
        q = q.view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        if rotary is not None:
            cos, sin = rotary
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if cache is not None:
            k, v = cache.update(layer, k, v)
        if self.kv_heads != self.heads:  # repeat_kv: key/value head j serves query heads j·n … j·n + n − 1
            k = k.repeat_interleave(self.heads // self.kv_heads, dim=1)
            v = v.repeat_interleave(self.heads // self.kv_heads, dim=1)
        scores = q @ k.transpose(-1, -2)
        if not self.scale_queries:
            scores = scores * self.scale
        probs = torch.softmax(scores + mask, dim=-1, dtype=torch.float32).to(q.dtype)
        out = (probs @ v).transpose(1, 2).reshape(b, t, self.heads * self.head_dim)
        return getattr(self, self.out_name)(out)


class LmRMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(dim)), eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class LlamaMlp(nn.Module):
    def __init__(self, dim, inner, bias, act):
        super().__init__()
        self.gate_proj, self.up_proj = nn.Linear(dim, inner, bias=bias), nn.Linear(dim, inner, bias=bias)
        self.down_proj, self.act = nn.Linear(inner, dim, bias=bias), act

    def forward(self, x):
        return self.down_proj(self.act(self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h = c["hidden_size"], c["num_attention_heads"]
        head_dim = c.get("head_dim") or d // h
        self.self_attn = LmAttention(d, h, c.get("num_key_value_heads") or h, head_dim, c["attention_bias"], "o_proj", False)
        self.mlp = LlamaMlp(d, c["intermediate_size"], c["mlp_bias"], LM_ACTIVATIONS[c["hidden_act"]])
        self.input_layernorm = LmRMSNorm(d, c["rms_norm_eps"])
        self.post_attention_layernorm = LmRMSNorm(d, c["rms_norm_eps"])

    def forward(self, x, mask, cache, layer, rotary):
        x = x + self.self_attn(self.input_layernorm(x), mask, cache, layer, rotary)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaLm(nn.Module):
    """LlamaForCausalLM: embed_tokens → layers (RMSNorm, rotary, GQA, SiLU-gated MLP) → norm → lm_head."""

    def __init__(self, c):
        super().__init__()
        if (c.get("rope_scaling") or {}).get("rope_type", "default") != "default":
            raise ValueError("the torch peer implements default rotary positions only")
        d, h = c["hidden_size"], c["num_attention_heads"]
        self.head_dim = c.get("head_dim") or d // h
        self.embed_tokens = nn.Embedding(c["vocab_size"], d)
        self.layers = nn.ModuleList(LlamaLayer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = LmRMSNorm(d, c["rms_norm_eps"])
        self.tied = c["tie_word_embeddings"]
        if not self.tied:
            self.lm_head = nn.Linear(d, c["vocab_size"], bias=False)
        self.register_buffer("inv_freq", 1.0 / c["rope_theta"] ** (torch.arange(0, self.head_dim, 2).float() / self.head_dim), persistent=False)
        # LlamaPreTrainedModel._init_weights: N(0, initializer_range) for Linear and Embedding, padding row zero.
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=c["initializer_range"])
                if isinstance(m, nn.Linear) and m.bias is not None:
                    nn.init.zeros_(m.bias)
        if c.get("pad_token_id") is not None:
            with torch.no_grad():
                self.embed_tokens.weight[c["pad_token_id"]].zero_()

    def forward(self, ids, mask2d, cache=None, last_only=False, embeds=None):
        x = self.embed_tokens(ids) if embeds is None else embeds
        b, t = x.shape[:2]
        past = cache.length() if cache is not None else 0
        mask = causal_lm_mask(mask2d, t, past, x.dtype)
        freqs = torch.arange(past, past + t, dtype=torch.float32)[:, None] * self.inv_freq[None]
        emb = torch.cat([freqs, freqs], dim=-1)
        rotary = (emb.cos()[None, None], emb.sin()[None, None])
        for i, layer in enumerate(self.layers):
            x = call_block(layer, x, mask, cache, i, rotary)
        x = self.norm(x)
        if last_only:  # transformers' generate() asks for logits_to_keep = 1 on the prompt
            x = x[:, -1:]
        return F.linear(x, self.embed_tokens.weight) if self.tied else self.lm_head(x)


class OptLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, bias = c["hidden_size"], c["num_attention_heads"], c["enable_bias"]
        self.self_attn = LmAttention(d, h, h, d // h, bias, "out_proj", True)
        affine = c["layer_norm_elementwise_affine"]
        self.self_attn_layer_norm = nn.LayerNorm(d, elementwise_affine=affine)
        self.fc1, self.fc2 = nn.Linear(d, c["ffn_dim"], bias=bias), nn.Linear(c["ffn_dim"], d, bias=bias)
        self.final_layer_norm = nn.LayerNorm(d, elementwise_affine=affine)
        self.pre_norm, self.act = c["do_layer_norm_before"], LM_ACTIVATIONS[c["activation_function"]]

    def forward(self, x, mask, cache, layer, rotary):
        y = self.self_attn(self.self_attn_layer_norm(x) if self.pre_norm else x, mask, cache, layer, None)
        x = x + y if self.pre_norm else self.self_attn_layer_norm(x + y)
        y = self.fc2(self.act(self.fc1(self.final_layer_norm(x) if self.pre_norm else x)))
        return x + y if self.pre_norm else self.final_layer_norm(x + y)


class OptLm(nn.Module):
    """OPTForCausalLM: tokens (+ project_in) + learned positions (offset 2) → layers → final LayerNorm (+ project_out) → tied head."""

    def __init__(self, c):
        super().__init__()
        if c["dropout"] or c["attention_dropout"] or c["layerdrop"]:
            raise ValueError("the torch peer's OPT has no dropout: set dropout, attention_dropout and layerdrop to 0")
        d = c["hidden_size"]
        e = c.get("word_embed_proj_dim") or d
        self.embed_tokens = nn.Embedding(c["vocab_size"], e)
        self.embed_positions = nn.Embedding(c["max_position_embeddings"] + 2, d)
        self.project_in = nn.Linear(e, d, bias=False) if e != d else None
        self.project_out = nn.Linear(d, e, bias=False) if e != d else None
        self.layers = nn.ModuleList(OptLayer(c) for _ in range(c["num_hidden_layers"]))
        final = c["do_layer_norm_before"] and not c["_remove_final_layer_norm"]
        self.final_layer_norm = nn.LayerNorm(d, elementwise_affine=c["layer_norm_elementwise_affine"]) if final else None
        self.tied = c["tie_word_embeddings"]
        if not self.tied:
            self.lm_head = nn.Linear(e, c["vocab_size"], bias=False)
        # OPTPreTrainedModel._init_weights: N(0, init_std) for Linear and Embedding, zero biases, padding row zero.
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=c["init_std"])
                if isinstance(m, nn.Linear) and m.bias is not None:
                    nn.init.zeros_(m.bias)
        if c.get("pad_token_id") is not None:
            with torch.no_grad():
                self.embed_tokens.weight[c["pad_token_id"]].zero_()

    def forward(self, ids, mask2d, cache=None, last_only=False, embeds=None):
        x = self.embed_tokens(ids) if embeds is None else embeds  # embeds: the width of embed_tokens, as inputs_embeds
        b, t = x.shape[:2]
        past = cache.length() if cache is not None else 0
        if self.project_in is not None:
            x = self.project_in(x)
        # OPTLearnedPositionalEmbedding: positions from the mask over past + new, offset 2.
        positions = (torch.cumsum(mask2d, dim=1) * mask2d - 1)[:, past:]
        x = x + self.embed_positions(positions + 2)
        mask = causal_lm_mask(mask2d, t, past, x.dtype)
        for i, layer in enumerate(self.layers):
            x = call_block(layer, x, mask, cache, i, None)
        if self.final_layer_norm is not None:
            x = self.final_layer_norm(x)
        if self.project_out is not None:
            x = self.project_out(x)
        if last_only:
            x = x[:, -1:]
        return F.linear(x, self.embed_tokens.weight) if self.tied else self.lm_head(x)


def build_lm(spec):
    torch.manual_seed(spec["seed"])
    kinds = {"llama": LlamaLm, "opt": OptLm}
    if spec["arch"] not in kinds:
        raise ValueError(f"the torch peer has no causal LM of type {spec['arch']} (llama, opt)")
    model = kinds[spec["arch"]](spec["config"])
    lora = spec.get("lora")
    if lora:
        for p in model.parameters():
            p.requires_grad_(False)
        for _, module in list(model.named_modules()):
            for name in lora["target_modules"]:
                child = getattr(module, name, None)
                if isinstance(child, nn.Linear):
                    setattr(module, name, LoraLinear(child, lora["r"], lora["lora_alpha"]))
    return model


def lm_batch(spec, k):
    """The closed-form training batch of src/child/lm-synthetic.ts (lmHostBatch)."""
    b, t, v, pad = spec["batch"], spec["length"], spec["vocabSize"], spec["padId"]
    ids = torch.full((b, t), pad, dtype=torch.long)
    mask = torch.zeros(b, t, dtype=torch.long)
    labels = torch.full((b, t), -100, dtype=torch.long)
    count = 0
    for row in range(b):
        s = k * b + row
        real, prompt = t - (37 * s) % max(1, t // 4), 4 + (13 * s) % 12
        for pos in range(real):
            ids[row, pos] = 3 + (s * 7919 + pos * 104729) % (v - 3)
            mask[row, pos] = 1
            if pos >= prompt:
                labels[row, pos] = ids[row, pos]
                count += 1 if pos >= 1 else 0
    return ids, mask, labels, count


def lm_prompt(spec):
    """Prompt ids of src/child/lm-synthetic.ts (lmPromptIds): every row full length."""
    b, t, v = spec["batch"], spec["length"], spec["vocabSize"]
    return torch.tensor([[3 + ((row + 1) * 7919 + pos * 104729) % (v - 3) for pos in range(t)] for row in range(b)], dtype=torch.long)


def causal_lm_loss(logits, labels, count):
    """transformers' ForCausalLMLoss: labels shifted left with −100 appended, summed over label tokens, ÷ their count."""
    shifted = F.pad(labels, (0, 1), value=-100)[:, 1:]
    return F.cross_entropy(logits.float().view(-1, logits.shape[-1]), shifted.reshape(-1), ignore_index=-100, reduction="sum") / count


def run_lm_train(spec):
    model = build_lm(spec).train()
    memory = apply_memory(model, spec)
    opt = torch.optim.AdamW(param_groups(model, spec["weight_decay"]), lr=spec["lr"], betas=tuple(spec["betas"]), eps=spec["eps"])
    trainable = [p for p in model.parameters() if p.requires_grad]
    pool = [lm_batch(spec["synthetic"], k) for k in range(spec["poolBatches"])]

    def step(i):
        ids, mask, labels, count = pool[i % len(pool)]
        opt.zero_grad(set_to_none=True)
        loss = causal_lm_loss(model(ids, mask), labels, count)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(trainable, spec["maxGradNorm"])
        value = loss.item()  # read back every step, as the mmft step does
        if not (math.isfinite(value) and math.isfinite(float(norm))):
            raise RuntimeError(f"loss {value}, gradient norm {norm}")
        opt.step()
        return value

    total, times, loss = spec["warmup"] + spec["timed"], [], float("nan")
    for i in range(total):
        start = time.perf_counter()
        loss = step(i)
        if i >= spec["warmup"]:
            times.append(1000 * (time.perf_counter() - start))
    profile = profile_rows(lambda: step(total)) if spec.get("profile") else None
    t = timing(times)
    syn = spec["synthetic"]
    return {"throughput": 1000 * syn["batch"] * syn["length"] / t["medianMs"], "unit": "tokens/s", "timing": t, "loss": loss, "steps": total,
            "trainableParams": sum(p.numel() for p in trainable), "totalParams": sum(p.numel() for p in model.parameters()), "profile": profile, "memory": memory}


def run_lm_generate(spec):
    """Greedy decoding with our KV cache, as transformers' _sample: prefill with logits_to_keep = 1, then
    one position per step; each step's ids read back to the host (the streamer and stopping criteria do)."""
    model = build_lm(spec).eval()
    syn, new_tokens, prefill = spec["synthetic"], spec["newTokens"], spec["mode"] == "prefill"
    ids = lm_prompt(syn)
    samples = []
    with torch.no_grad():
        for run in range(spec["warmup"] + spec["timed"]):
            start = time.perf_counter()
            cache, mask = KvCache(), torch.ones_like(ids)
            nxt = model(ids, mask, cache, last_only=True)[:, -1].argmax(dim=-1)
            nxt.tolist()
            stamps = [time.perf_counter()]
            for _ in range(new_tokens - 1):
                mask = torch.cat([mask, torch.ones(ids.shape[0], 1, dtype=mask.dtype)], dim=1)
                nxt = model(nxt[:, None], mask, cache, last_only=True)[:, -1].argmax(dim=-1)
                nxt.tolist()
                stamps.append(time.perf_counter())
            if run < spec["warmup"]:
                continue
            if prefill:
                samples.append(1000 * (stamps[0] - start))
            else:
                samples.extend(1000 * (b - a) for a, b in zip(stamps, stamps[1:]))
    t = timing(samples)
    per = syn["batch"] * (syn["length"] if prefill else 1)
    return {"throughput": 1000 * per / t["medianMs"], "unit": "tokens/s", "timing": t}


# --- BLIP-2 -----------------------------------------------------------------------------------
# Our own plain-PyTorch Blip2ForConditionalGeneration with the shapes and math of transformers'
# models/blip_2/modeling_blip_2.py (Blip2VisionModel, Blip2QFormerModel, language_projection) over the
# Llama / OPT above as the language model: the vision tower with a fused qkv whose bias is
# cat(q_bias, 0, v_bias) (kept fused, as current transformers stores it), exact GELU, no pre-LayerNorm,
# post_layernorm; the Q-Former's LayerNorm-ed queries, post-LN BERT layers with cross-attention to the
# image every cross_attention_frequency layers and the query feed-forward; the current layout's
# masked_scatter of the projected queries into the image-token embeddings, or the legacy prepend.


def hf_act(name):
    return {"gelu": F.gelu, "relu": F.relu, "quick_gelu": quick_gelu, "gelu_new": lambda x: F.gelu(x, approximate="tanh")}[name]


class Blip2VisionLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.heads = c["hidden_size"], c["num_attention_heads"]
        self.layer_norm1 = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.qkv = nn.Linear(d, 3 * d, bias=c["qkv_bias"])
        self.projection = nn.Linear(d, d)
        self.layer_norm2 = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.fc1, self.fc2 = nn.Linear(d, c["intermediate_size"]), nn.Linear(c["intermediate_size"], d)
        self.act = hf_act(c["hidden_act"])

    def forward(self, x):
        b, t, d = x.shape
        hd = d // self.heads
        q, k, v = self.qkv(self.layer_norm1(x)).reshape(b, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        probs = torch.softmax(q @ k.transpose(-1, -2) * hd ** -0.5, dim=-1)
        x = x + self.projection((probs @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(self.act(self.fc1(self.layer_norm2(x))))


class Blip2Vision(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, p = c["hidden_size"], c["patch_size"]
        self.class_embedding = nn.Parameter(torch.zeros(1, 1, d))
        self.patch_embedding = nn.Conv2d(3, d, p, p)
        self.position_embedding = nn.Parameter(torch.zeros(1, (c["image_size"] // p) ** 2 + 1, d))
        self.layers = nn.ModuleList(Blip2VisionLayer(c) for _ in range(c["num_hidden_layers"]))
        self.post_layernorm = nn.LayerNorm(d, eps=c["layer_norm_eps"])

    def forward(self, pixels):
        x = self.patch_embedding(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.expand(x.shape[0], 1, -1), x], dim=1) + self.position_embedding
        for layer in self.layers:
            x = call_block(layer, x)
        return self.post_layernorm(x)


class QFormerAttention(nn.Module):
    """BERT attention + output: LayerNorm(dense(softmax(q·kᵀ/√hd + mask)·v) + x); keys/values from `source`."""

    def __init__(self, c, kv_dim):
        super().__init__()
        d, self.heads = c["hidden_size"], c["num_attention_heads"]
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(kv_dim, d), nn.Linear(kv_dim, d)
        self.dense, self.LayerNorm = nn.Linear(d, d), nn.LayerNorm(d, eps=c["layer_norm_eps"])

    def forward(self, x, source):
        b, t, d = x.shape
        hd = d // self.heads
        split = lambda y: y.view(b, y.shape[1], self.heads, hd).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(source)), split(self.value(source))
        # Queries and the image have no padding here, so BERT's (1 - mask)·-10000 adds zeros and is left out.
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), dim=-1)
        return self.LayerNorm(self.dense((probs @ v).transpose(1, 2).reshape(b, t, d)) + x)


class QFormerLayer(nn.Module):
    def __init__(self, c, index):
        super().__init__()
        d = c["hidden_size"]
        self.attention = QFormerAttention(c, d)
        self.crossattention = QFormerAttention(c, c["encoder_hidden_size"]) if index % c["cross_attention_frequency"] == 0 else None
        self.intermediate_query = nn.Linear(d, c["intermediate_size"])
        self.output_query = nn.Linear(c["intermediate_size"], d)
        self.output_norm = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.act = hf_act(c["hidden_act"])

    def forward(self, x, image):
        x = self.attention(x, x)
        if self.crossattention is not None:
            x = self.crossattention(x, image)
        return self.output_norm(self.output_query(self.act(self.intermediate_query(x))) + x)


class Blip2(nn.Module):
    def __init__(self, config):
        super().__init__()
        v, q, text = config["vision_config"], dict(config["qformer_config"]), config["text_config"]
        for name, value in (("hidden_dropout_prob", q["hidden_dropout_prob"]), ("attention_probs_dropout_prob", q["attention_probs_dropout_prob"]), ("attention_dropout", v["attention_dropout"])):
            if value:
                raise ValueError(f"the torch peer's BLIP-2 has no dropout: set {name} to 0")
        q["encoder_hidden_size"] = v["hidden_size"]  # Blip2Config forces it
        self.config = config
        self.vision_model = Blip2Vision(v)
        self.query_tokens = nn.Parameter(torch.zeros(1, config["num_query_tokens"], q["hidden_size"]))
        self.qformer_layernorm = nn.LayerNorm(q["hidden_size"], eps=q["layer_norm_eps"])
        self.qformer = nn.ModuleList(QFormerLayer(q, i) for i in range(q["num_hidden_layers"]))
        kinds = {"llama": LlamaLm, "opt": OptLm}
        if text["model_type"] not in kinds:
            raise ValueError(f"the torch peer's BLIP-2 has no language model of type {text['model_type']} (llama, opt)")
        lm = kinds[text["model_type"]](text)  # initialised by its own rules
        self.language_projection = nn.Linear(q["hidden_size"], lm.embed_tokens.weight.shape[1])
        # Blip2PreTrainedModel._init_weights outside the language model: N(0, initializer_range)
        # weights, zero biases, LayerNorm 1/0; class/position embeddings N(0, vision initializer_range);
        # the query tokens N(0, qformer initializer_range) as LAVIS (docs/blip2.md, fresh models).
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.normal_(m.weight, std=config["initializer_range"])
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.vision_model.class_embedding, std=v["initializer_range"])
        nn.init.normal_(self.vision_model.position_embedding, std=v["initializer_range"])
        nn.init.normal_(self.query_tokens, std=q["initializer_range"])
        self.language_model = lm  # registered last, so the loop above left its initialisation alone

    def image_features(self, pixels):
        image = self.vision_model(pixels)
        x = self.qformer_layernorm(self.query_tokens.expand(pixels.shape[0], -1, -1))
        for layer in self.qformer:
            x = call_block(layer, x, image)
        return self.language_projection(x)

    def inputs(self, pixels, ids, mask):
        """The language model's input embeddings and mask in this config's layout."""
        queries = self.image_features(pixels)
        text = self.language_model.embed_tokens(ids)
        token = self.config["image_token_index"]
        if token is None:  # legacy: prepend the queries and as many ones to the mask
            return torch.cat([queries, text], dim=1), torch.cat([torch.ones(queries.shape[:2], dtype=mask.dtype), mask], dim=1)
        return text.masked_scatter((ids == token)[..., None], queries), mask  # in order, as get_placeholder_mask + masked_scatter


def trainable_by_globs(model, freeze, unfreeze):
    """train.freeze / unfreeze parameter globs (tower names already expanded): ** any run, * one name part."""
    def matcher(globs):
        regs = [re.compile("^" + re.escape(g).replace(r"\*\*", ".*").replace(r"\*", "[^.]*") + "$") for g in globs]
        return lambda name: any(r.match(name) for r in regs)
    frozen, thawed = matcher(freeze), matcher(unfreeze)
    for name, p in named_hf_parameters(model):
        if frozen(name):
            p.requires_grad_(False)
        if thawed(name):
            p.requires_grad_(True)


def named_hf_parameters(model):
    """Parameters under transformers' module paths where the freeze globs could tell them apart (the Q-Former's)."""
    for name, p in model.named_parameters():
        name = name.replace("qformer_layernorm.", "qformer.layernorm.")
        yield re.sub(r"^qformer\.(\d+)\.", r"qformer.encoder.layer.\1.", name), p


def vlm_batch(spec, k):
    """The closed-form batch of src/child/vlm-synthetic.ts (vlmHostBatch): Q image tokens (current layout) then the LM text row."""
    b, q, token = spec["batch"], spec["queryTokens"], spec["imageTokenId"]
    size = spec["imageSize"]
    s = (k * b + torch.arange(b, dtype=torch.float64)).view(b, 1, 1, 1)  # syntheticPixels of src/child/synthetic.ts
    c = torch.arange(3, dtype=torch.float64).view(1, 3, 1, 1)
    y = torch.arange(size, dtype=torch.float64).view(1, 1, size, 1)
    x = torch.arange(size, dtype=torch.float64).view(1, 1, 1, size)
    pixels = torch.sin(0.05 * (x + 1) * (c + 1) + 0.11 * y * (c + 1) + 0.7 * s).float()
    ids, mask, labels, count = lm_batch({"batch": b, "length": spec["textLength"], "vocabSize": spec["vocabSize"], "padId": spec["padId"]}, k)
    if token is not None:
        ids = torch.cat([torch.full((b, q), token, dtype=torch.long), ids], dim=1)
        mask = torch.cat([torch.ones(b, q, dtype=torch.long), mask], dim=1)
        labels = torch.cat([torch.full((b, q), -100, dtype=torch.long), labels], dim=1)
    return pixels, ids, mask, labels, count


# LLaVA (transformers/models/llava/modeling_llava.py): a CLIP vision tower (transformers/models/clip/
# modeling_clip.py CLIPVisionTransformer: bias-free patch conv, class token, position embeddings,
# pre_layrnorm, pre-LN layers; hidden_states[k] is the output of k layers, and like mmft this tower
# stops at the deepest layer asked, where transformers runs them all), the chosen hidden states
# concatenated on the feature axis, the class token dropped by strategy "default", the
# multi_modal_projector (linear_1, act, linear_2; mm_projector_type linear / mlpNx_gelu as LLaVA's
# builder), masked_scatter into the `<image>` embeddings, and the causal-LM peer reading inputs_embeds.


class ClipVisionTower(nn.Module):
    def __init__(self, v):
        super().__init__()
        d, p = v["hidden_size"], v["patch_size"]
        if v["attention_dropout"]:
            raise ValueError("the torch peer's CLIP vision tower has no dropout: set vision_config.attention_dropout to 0")
        if v["hidden_act"] != "quick_gelu":
            raise ValueError(f"the torch peer's CLIP vision tower uses quick_gelu, not {v['hidden_act']}")
        self.class_embedding = nn.Parameter(torch.randn(d) * d ** -0.5 * v["initializer_factor"])
        self.patch_embedding = nn.Conv2d(3, d, p, p, bias=False)
        self.position_embedding = nn.Embedding((v["image_size"] // p) ** 2 + 1, d)
        self.pre_layrnorm = nn.LayerNorm(d, eps=v["layer_norm_eps"])
        self.layers = encoder(v)
        # CLIPPreTrainedModel._init_weights (vision side), as the Clip peer above.
        f, n, std = v["initializer_factor"], v["num_hidden_layers"], v["initializer_range"]
        nn.init.normal_(self.patch_embedding.weight, std=std * f)
        nn.init.normal_(self.position_embedding.weight, std=std * f)
        for layer in self.layers:
            for name in ("q_proj", "k_proj", "v_proj"):
                nn.init.normal_(getattr(layer.self_attn, name).weight, std=d ** -0.5 * (2 * n) ** -0.5 * f)
            nn.init.normal_(layer.self_attn.out_proj.weight, std=d ** -0.5 * f)
            nn.init.normal_(layer.fc1.weight, std=(2 * d) ** -0.5 * f)
            nn.init.normal_(layer.fc2.weight, std=d ** -0.5 * (2 * n) ** -0.5 * f)
            for m in layer.modules():
                if isinstance(m, nn.Linear):
                    nn.init.zeros_(m.bias)

    def hidden_states(self, pixels, upto):
        x = self.patch_embedding(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.expand(x.shape[0], 1, -1), x], dim=1) + self.position_embedding.weight
        states = [self.pre_layrnorm(x)]
        for layer in self.layers[:upto]:
            states.append(call_block(layer, states[-1], None))
        return states


class Llava(nn.Module):
    def __init__(self, config):
        super().__init__()
        v, text = config["vision_config"], config["text_config"]
        if v.get("model_type", "clip_vision_model") != "clip_vision_model":
            raise ValueError(f"the torch peer's LLaVA has a CLIP vision tower only, not {v['model_type']}")
        self.config = config
        self.vision_tower = ClipVisionTower(v)
        layers = config["vision_feature_layer"]
        total = v["num_hidden_layers"]
        self.feature_layers = [k if k >= 0 else total + 1 + k for k in (layers if isinstance(layers, list) else [layers])]
        kind = config.get("mm_projector_type")
        count, act = (2, config["projector_hidden_act"]) if kind is None else (1, "gelu") if kind == "linear" else (int(re.match(r"mlp(\d+)x_gelu", kind).group(1)), "gelu")
        self.act = hf_act(act)
        kinds = {"llama": LlamaLm, "opt": OptLm}
        if text["model_type"] not in kinds:
            raise ValueError(f"the torch peer's LLaVA has no language model of type {text['model_type']} (llama, opt)")
        lm = kinds[text["model_type"]](text)  # initialised by its own rules
        width, bias = lm.embed_tokens.weight.shape[1], config["multimodal_projector_bias"]
        inner = v["hidden_size"] * len(self.feature_layers)
        self.multi_modal_projector = nn.ModuleDict({f"linear_{i + 1}": nn.Linear(inner if i == 0 else width, width, bias=bias) for i in range(count)})
        for m in self.multi_modal_projector.values():  # LlavaPreTrainedModel._init_weights: N(0, text initializer_range), zero bias
            nn.init.normal_(m.weight, std=text["initializer_range"])
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        self.language_model = lm

    def image_features(self, pixels):
        states = self.vision_tower.hidden_states(pixels, max(self.feature_layers))
        x = torch.cat([states[k] for k in self.feature_layers], dim=-1)
        if self.config["vision_feature_select_strategy"] == "default":
            x = x[:, 1:]
        linears = list(self.multi_modal_projector.values())
        x = linears[0](x)
        for linear in linears[1:]:
            x = linear(self.act(x))
        return x

    def inputs(self, pixels, ids, mask):
        features = self.image_features(pixels)
        text = self.language_model.embed_tokens(ids)
        return text.masked_scatter((ids == self.config["image_token_index"])[..., None], features), mask


def build_vlm(spec):
    """The spec's vision-to-LLM model; LoRA (PEFT: base frozen) on the language model's per-layer linears, modules_to_save trained."""
    kinds = {"blip2": Blip2, "llava": Llava}
    if spec["arch"] not in kinds:
        raise ValueError(f"the torch peer has no vision-to-LLM model of type {spec['arch']} (blip2, llava)")
    torch.manual_seed(spec["seed"])
    model = kinds[spec["arch"]](spec["config"])
    lora = spec.get("lora")
    if lora:
        for p in model.parameters():
            p.requires_grad_(False)
        for _, module in list(model.language_model.named_modules()):
            for name in lora["target_modules"]:
                child = getattr(module, name, None)
                if isinstance(child, nn.Linear):
                    setattr(module, name, LoraLinear(child, lora["r"], lora["lora_alpha"]))
        for name in lora.get("modules_to_save") or []:
            for p in getattr(model, name).parameters():
                p.requires_grad_(True)
    return model


def run_vlm_train(spec):
    model = build_vlm(spec).train()
    trainable_by_globs(model, spec["freeze"], spec["unfreeze"])
    memory = apply_memory(model, spec)
    opt = torch.optim.AdamW(param_groups(model, spec["weight_decay"]), lr=spec["lr"], betas=tuple(spec["betas"]), eps=spec["eps"])
    trainable = [p for p in model.parameters() if p.requires_grad]
    pool = [vlm_batch(spec["synthetic"], k) for k in range(spec["poolBatches"])]

    def step(i):
        pixels, ids, mask, labels, count = pool[i % len(pool)]
        opt.zero_grad(set_to_none=True)
        embeds, full_mask = model.inputs(pixels, ids, mask)
        logits = model.language_model(None, full_mask, embeds=embeds)
        loss = causal_lm_loss(logits[:, -labels.shape[1]:], labels, count)  # Blip2's logits[:, -L:] against the labels
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(trainable, spec["maxGradNorm"])
        value = loss.item()
        if not (math.isfinite(value) and math.isfinite(float(norm))):
            raise RuntimeError(f"loss {value}, gradient norm {norm}")
        opt.step()
        return value

    total, times, loss = spec["warmup"] + spec["timed"], [], float("nan")
    for i in range(total):
        start = time.perf_counter()
        loss = step(i)
        if i >= spec["warmup"]:
            times.append(1000 * (time.perf_counter() - start))
    profile = profile_rows(lambda: step(total)) if spec.get("profile") else None
    t = timing(times)
    return {"throughput": 1000 * spec["synthetic"]["batch"] / t["medianMs"], "unit": "samples/s", "timing": t, "loss": loss, "steps": total,
            "trainableParams": sum(p.numel() for p in trainable), "totalParams": sum(p.numel() for p in model.parameters()), "profile": profile, "memory": memory}


def run_vlm_caption(spec):
    """generate without a prompt: BLIP-2 [image × Q, bos] (legacy: queries + [bos]), LLaVA [bos, image × Q],
    greedy with our KV cache as run_lm_generate, each step's ids read back; one sample = the whole call."""
    model = build_vlm(spec).eval()
    syn = spec["synthetic"]
    pixels = vlm_batch(syn, 0)[0]
    span = 0 if syn["imageTokenId"] is None else syn["queryTokens"]
    row = [syn["bosId"]] + [syn["imageTokenId"]] * span if syn.get("bosFirst") else [syn["imageTokenId"]] * span + [syn["bosId"]]
    ids = torch.tensor([row] * syn["batch"], dtype=torch.long)
    samples = []
    with torch.no_grad():
        for run in range(spec["warmup"] + spec["timed"]):
            start = time.perf_counter()
            embeds, mask = model.inputs(pixels, ids, torch.ones_like(ids))
            cache = KvCache()
            nxt = model.language_model(None, mask, cache, last_only=True, embeds=embeds)[:, -1].argmax(dim=-1)
            nxt.tolist()
            for _ in range(spec["newTokens"] - 1):
                mask = torch.cat([mask, torch.ones(mask.shape[0], 1, dtype=mask.dtype)], dim=1)
                nxt = model.language_model(nxt[:, None], mask, cache, last_only=True)[:, -1].argmax(dim=-1)
                nxt.tolist()
            if run >= spec["warmup"]:
                samples.append(1000 * (time.perf_counter() - start))
    t = timing(samples)
    if spec["arch"] == "llava":  # new tokens per second, as src/child/run-vlm.ts reports LLaVA
        return {"throughput": 1000 * syn["batch"] * spec["newTokens"] / t["medianMs"], "unit": "tokens/s", "timing": t}
    return {"throughput": 1000 * syn["batch"] / t["medianMs"], "unit": "images/s", "timing": t}


# --- Memory switches (train.gradient_checkpointing, train.frozen_dtype) ---------------------------------


def block_stacks(model):
    """Every nn.ModuleList of transformer blocks in the model (CLIP towers, Llama / OPT layers, BLIP-2's vision
    tower and Q-Former, LLaVA's vision tower)."""
    kinds = (Layer, LlamaLayer, OptLayer, Blip2VisionLayer, QFormerLayer)
    return [m for m in model.modules() if isinstance(m, nn.ModuleList) and len(m) > 0 and all(isinstance(b, kinds) for b in m)]


def enable_checkpointing(model, every):
    """Checkpoint block i of each stack when i % every == 0 (every = 1: every block); returns the blocks marked."""
    marked = 0
    for stack in block_stacks(model):
        for i, block in enumerate(stack):
            if i % every == 0:
                block.checkpointed = True
                marked += 1
    if marked == 0:
        raise ValueError("gradient checkpointing: the peer's model has no block stack")
    return marked


class FrozenLinear16(nn.Module):
    """A frozen nn.Linear after module.to(torch.bfloat16): weight and bias stored in bf16 and the GEMM run in
    bf16 — the input cast down, the output cast back to the caller's f32 — as a frozen layer of a model loaded
    in bf16 computes; LoRA matrices, norms, attention and the loss stay f32."""

    def __init__(self, base, dtype):
        super().__init__()
        self.in_features, self.out_features = base.in_features, base.out_features
        self.base = base.to(dtype)

    def forward(self, x):
        return self.base(x.to(self.base.weight.dtype)).to(x.dtype)


def store_frozen_16(model, name):
    """Convert every nn.Linear whose parameters are all frozen; returns (count, bytes saved at rest)."""
    if name == "fp16":
        raise ValueError("torch 1.13 has no float16 GEMM on the CPU (addmm_impl_cpu_ is not implemented for Half): the peer runs frozen_dtype bf16 or f32")
    count, saved = 0, 0
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if type(child) is nn.Linear and not any(p.requires_grad for p in child.parameters()):
                saved += 2 * sum(p.numel() for p in child.parameters())
                setattr(parent, child_name, FrozenLinear16(child, torch.bfloat16))
                count += 1
    return count, saved


def apply_memory(model, spec):
    """Apply the spec's switches after LoRA and freezing, as the mmft child does (src/child/memory-settings.ts)."""
    memory = spec.get("memory") or {"checkpointEvery": 0, "frozenDtype": "f32"}
    every, dtype = memory["checkpointEvery"], memory["frozenDtype"]
    out = {"checkpointing": "off" if every == 0 else "every block" if every == 1 else f"every {every} blocks", "frozenDtype": dtype}
    how = []
    if every:
        out["checkpointedStacks"] = enable_checkpointing(model, every)
        how.append("torch.utils.checkpoint(use_reentrant=False) per block")
    if dtype != "f32":
        out["packedWeights"], out["bytesSaved"] = store_frozen_16(model, dtype)
        how.append("frozen nn.Linear .to(torch.bfloat16), bf16 GEMMs")
    if how:
        out["how"] = "; ".join(how)
    return out


def run_gemm(spec):
    out = []
    for n in spec["sizes"]:
        a, b = torch.randn(n, n), torch.randn(n, n)
        for _ in range(3):
            a @ b
        ms = []
        for _ in range(10):
            start = time.perf_counter()
            a @ b
            ms.append(time.perf_counter() - start)
        out.append({"engine": f"torch {torch.__version__} (threads {torch.get_num_threads()})", "size": n, "gflops": 2 * n ** 3 / statistics.median(ms) / 1e9})
    return {"ceilings": out}


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    modes = {"train": run_train, "embed": run_embed, "embed-text": run_text_embed, "gemm": run_gemm, "lm-train": run_lm_train, "prefill": run_lm_generate, "decode": run_lm_generate,
             "vlm-train": run_vlm_train, "vlm-caption": run_vlm_caption}
    result = modes[spec["mode"]](spec)
    result.update({"side": "torch", "engine": engine_info(spec), "torchConfig": torch.__config__.show(),
                   "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024})
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # reported to the runner as one line, like the mmft child
        print("ERROR " + json.dumps({"message": f"{type(error).__name__}: {error}"}), flush=True)
        sys.exit(1)
