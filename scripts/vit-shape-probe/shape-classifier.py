# Can a ViT of the embedded CLIP tower's shape (64 px, patch P, width 128, 4 layers, 4 heads, MLP 256,
# pre-LN, class token) learn the shapes' shape from their pixels when taught it directly? A supervised
# shape classifier on one-object scenes of both domains (from `dump-scenes.cjs <n> <seed> 1 <prefix>`),
# AdamW 5e-4, weight decay 0.1, batch 32, one thread; prints held-out accuracy per domain every 100
# steps (docs/llava.md, "Does it look at the image?").
# Usage: /usr/bin/python3 scripts/vit-shape-probe/shape-classifier.py <prefix> <patch> <steps>   (torch)
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn

SHAPES = ['circle', 'square', 'triangle', 'star', 'hexagon']
prefix, patch, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(0)
torch.set_num_threads(1)

pixels = np.fromfile(prefix + '.u8', dtype=np.uint8).reshape(-1, 64, 64, 3)
labels = json.load(open(prefix + '.json'))
y = np.array([SHAPES.index(l['objects'][0]['shape']) for l in labels])
domain = np.array([l['domain'] for l in labels])
x = (torch.tensor(pixels).permute(0, 3, 1, 2).float() / 255.0 - 0.5) / 0.25
order = np.random.RandomState(0).permutation(len(y))
train, test = order[:-600], order[-600:]


class ViT(nn.Module):
    def __init__(self, patch, width=128, layers=4):
        super().__init__()
        self.patch = nn.Conv2d(3, width, patch, patch, bias=False)
        self.cls = nn.Parameter(torch.randn(width) * 0.02)
        self.pos = nn.Parameter(torch.randn((64 // patch) ** 2 + 1, width) * 0.02)
        self.pre = nn.LayerNorm(width)
        layer = nn.TransformerEncoderLayer(width, 4, 256, 0.0, activation='gelu', batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.post = nn.LayerNorm(width)
        self.head = nn.Linear(width, len(SHAPES))

    def forward(self, images):
        tokens = self.patch(images).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls.expand(tokens.shape[0], 1, -1), tokens], 1) + self.pos
        return self.head(self.post(self.encoder(self.pre(tokens))[:, 0]))


def accuracy(model):
    with torch.no_grad():
        right = model(x[test]).argmax(1).numpy() == y[test]
    return right[domain[test] == 'A'].mean(), right[domain[test] == 'B'].mean()


model = ViT(patch)
optimizer = torch.optim.AdamW(model.parameters(), 5e-4, weight_decay=0.1)
start = time.time()
for step in range(steps):
    batch = np.random.choice(train, 32)
    loss = nn.functional.cross_entropy(model(x[batch]), torch.tensor(y[batch]))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 100 == 0:
        a, b = accuracy(model)
        print(f'step {step} loss {loss.item():.3f} shape accuracy A {a:.3f} B {b:.3f} ({time.time() - start:.0f} s)', flush=True)
a, b = accuracy(model)
print(f'final shape accuracy A {a:.3f} B {b:.3f} (chance 0.2)')
