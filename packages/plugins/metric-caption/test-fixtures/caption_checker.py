#!/usr/bin/env python3
# Independent checker for the caption metric tests: BLEU (closest ref length, 1e-15/1e-9 guards),
# ROUGE-L (beta 1.2) and CIDEr-D (sigma 6, clipping, x10) written from the definitions in
# pycocoevalcap's bleu_scorer.py / rouge.py / cider_scorer.py, in plain Python (no numpy).
# Usage: python3 caption_checker.py > caption-golden.json   (inputs are whitespace-tokenised)
import json
import math
from collections import Counter

CASES = {
    "identical": {"a": ("a man rides a horse on the beach", ["a man rides a horse on the beach", "a person on a horse"]),
                  "b": ("two dogs play in the snow", ["two dogs are playing in snow", "dogs in the snow"])},
    "no_shared_word": {"a": ("zebra xylophone quartz", ["a man rides a horse", "a person on a horse"]),
                       "b": ("two dogs play in the snow", ["two dogs are playing in snow"])},
    "clipping": {"a": ("the the the the the the", ["the cat is on the mat", "there is a cat on the mat"]),
                 "b": ("a cat on a mat", ["the cat sat on the mat"]),
                 "c": ("a a a dog dog", ["a dog runs", "a big dog runs fast"])},
    "ref_lengths": {"a": ("a dog runs", ["a dog", "a dog runs across the green field today", "dog running"]),
                    "b": ("a small red car parked near a tall building in the city", ["a car", "a red car parked in the city"]),
                    "c": ("people", ["many people walk on a busy street", "a crowd"])},
    "single_image": {"a": ("a cat sits on a mat", ["a cat sits on the mat", "a cat on a mat"])},
    "mixed": {str(i): c for i, c in enumerate([
        ("a man riding a wave on top of a surfboard", ["a man riding a wave on a surfboard", "a surfer rides a large wave", "a person surfing on a big wave in the ocean"]),
        ("a plate of food with broccoli", ["a plate with meat and broccoli", "a white plate topped with food", "broccoli and rice on a plate"]),
        ("a giraffe standing in a field", ["a giraffe stands in the grass", "a tall giraffe in a grassy field", "a giraffe is standing near trees"]),
        ("a bus on the street", ["a red bus driving down a street", "a double decker bus on a city street"]),
        ("a cat", ["a cat laying on a bed", "a black cat sleeping on a blanket"]),
        ("a kitchen with a stove and a refrigerator", ["a kitchen with white cabinets and a stove", "a small kitchen with a refrigerator", "an empty kitchen"]),
        ("a man holding a tennis racket on a court", ["a tennis player swings a racket", "a man playing tennis on a court"]),
        ("the the the", ["a dog on the beach"]),
        ("a group of people standing around a table", ["people gathered around a table with food", "a group of friends at a table"]),
    ])},
}


def ngrams(words, n=4):
    c = Counter()
    for k in range(1, n + 1):
        for i in range(len(words) - k + 1):
            c[tuple(words[i:i + k])] += 1
    return c


def bleu(items):
    tl = rl = 0
    guess, correct = [0] * 4, [0] * 4
    for cand, refs in items:
        c = cand.split()
        lens = [len(r.split()) for r in refs]
        maxc = Counter()
        for r in refs:
            for g, v in ngrams(r.split()).items():
                maxc[g] = max(maxc[g], v)
        tl += len(c)
        rl += sorted(lens, key=lambda l: (abs(l - len(c)), l))[0]
        for g, v in ngrams(c).items():
            correct[len(g) - 1] += min(v, maxc[g])
        for k in range(4):
            guess[k] += max(0, len(c) - k)
    out = []
    ratio = (tl + 1e-15) / (rl + 1e-9)
    for n in range(1, 5):
        p = 1.0
        for k in range(n):
            p *= (correct[k] + 1e-15) / (guess[k] + 1e-9)
        b = p ** (1.0 / n)
        if ratio < 1:
            b *= math.exp(1 - 1 / ratio)
        out.append(b)
    return out


def lcs(a, b):
    t = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            t[i][j] = t[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(t[i - 1][j], t[i][j - 1])
    return t[-1][-1]


def rouge(cand, refs):
    c = cand.split(" ")
    p = max(lcs(r.split(" "), c) / len(c) for r in refs)
    r_ = max(lcs(r.split(" "), c) / len(r.split(" ")) for r in refs)
    return 0.0 if p == 0 or r_ == 0 else (1 + 1.2 ** 2) * p * r_ / (r_ + 1.2 ** 2 * p)


def cider(items, sigma=6.0):
    df = Counter()
    for _, refs in items:
        for g in set(g for r in refs for g in ngrams(r.split())):
            df[g] += 1
    log_n = math.log(len(items))

    def vec(words):
        v, norm, length = [dict() for _ in range(4)], [0.0] * 4, 0
        for g, tf in ngrams(words).items():
            w = tf * (log_n - math.log(max(1.0, df[g])))
            v[len(g) - 1][g] = w
            norm[len(g) - 1] += w * w
            length += tf if len(g) == 2 else 0
        return v, [math.sqrt(x) for x in norm], length

    scores = []
    for cand, refs in items:
        vh, nh, lh = vec(cand.split())
        total = [0.0] * 4
        for r in refs:
            vr, nr, lr = vec(r.split())
            for n in range(4):
                val = sum(min(w, vr[n].get(g, 0.0)) * vr[n].get(g, 0.0) for g, w in vh[n].items())
                if nh[n] != 0 and nr[n] != 0:
                    val /= nh[n] * nr[n]
                total[n] += val * math.e ** (-((lh - lr) ** 2) / (2 * sigma ** 2))
        scores.append(sum(total) / 4 / len(refs) * 10)
    return scores


out = {}
for name, case in CASES.items():
    ids = list(case)
    items = [case[i] for i in ids]
    ci = cider(items)
    ro = [rouge(c, r) for c, r in items]
    out[name] = {
        "predictions": {i: case[i][0] for i in ids},
        "references": {i: case[i][1] for i in ids},
        "scores": dict(zip(["bleu1", "bleu2", "bleu3", "bleu4"], bleu(items)),
                       rougeL=sum(ro) / len(ro), cider=sum(ci) / len(ci)),
        "per_item": {i: {"cider": ci[k], "rougeL": ro[k], "bleu4": bleu([items[k]])[3]} for k, i in enumerate(ids)},
    }
print(json.dumps(out, indent=1))
