"""PyTorch peer of `mmft bench --peer torch`: the same CLIP shapes, batch, loss and optimizer
step in plain PyTorch on the CPU, timed the way mmft is timed (packages/benchmarks/src/child/).

Our own code, HF-CLIP-shaped (transformers/models/clip/modeling_clip.py): pre-LN blocks,
quick_gelu, patch-embedding conv, causal + padding mask, eos pooling, bias-free projections,
logit scale, symmetric InfoNCE (open_clip ClipLoss), torch.optim.AdamW, clip_grad_norm_; LoRA on
named Linears as PEFT's lora.Linear. Reads one JSON spec (argv[1]) and prints `RESULT <json>`.
Never imported by tests or CI: install torch with scripts/install-torch-peer.sh.
"""
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


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
            x = layer(x, None)
        return self.visual_projection(self.post_layernorm(x[:, 0]))

    def text_features(self, ids, mask):
        b, t = ids.shape
        x = self.token_embedding(ids) + self.text_position.weight[:t]
        neg = torch.finfo(x.dtype).min
        causal = torch.full((t, t), neg).triu(1)
        additive = causal[None, None] + (1.0 - mask[:, None, None, :].to(x.dtype)) * neg
        for layer in self.text_layers:
            x = layer(x, additive)
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
            "trainableParams": sum(p.numel() for p in trainable), "totalParams": sum(p.numel() for p in model.parameters()), "profile": profile}


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
    result = {"train": run_train, "embed": run_embed, "gemm": run_gemm}[spec["mode"]](spec)
    result.update({"side": "torch", "engine": engine_info(spec), "torchConfig": torch.__config__.show(),
                   "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024})
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # reported to the runner as one line, like the mmft child
        print("ERROR " + json.dumps({"message": f"{type(error).__name__}: {error}"}), flush=True)
        sys.exit(1)
