#!/usr/bin/env python3
# Independent checker for the VQA tests: answer normalisation and accuracy re-written from the
# rules of GT-Vision-Lab/VQA vqaEval.py before commit a013f00, as salesforce/LAVIS
# lavis/common/vqa_tools/vqa_eval.py still has them (variant `lavis`), run with Python 3's own `re`
# so the JS regex translation (Unicode \d, the `count=re.UNICODE` quirk) is checked against the
# real engine. vqa_reference.py runs the upstream files themselves, for both variants.
# Usage: python3 vqa_checker.py > vqa-golden.json
import json
import re

PUNCT = [';', r"/", '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!']
PERIOD = re.compile(r"(?!<=\d)(\.)(?!\d)")
COMMA = re.compile(r"(\d)(\,)(\d)")
NUMBERS = {'none': '0', 'zero': '0', 'one': '1', 'two': '2', 'three': '3', 'four': '4', 'five': '5',
           'six': '6', 'seven': '7', 'eight': '8', 'nine': '9', 'ten': '10'}
CONTRACTIONS = {"dont": "don't", "isnt": "isn't", "whats": "what's", "Im": "I'm", "cant": "can't", "youre": "you're"}


def punctuation(text):
    out = text
    for p in PUNCT:
        if (p + ' ' in text or ' ' + p in text) or COMMA.search(text) is not None:
            out = out.replace(p, '')
        else:
            out = out.replace(p, ' ')
    return PERIOD.sub('', out, count=32)


def digit_article(text):
    words = [NUMBERS.get(w, w) for w in text.lower().split()]
    words = [w for w in words if w not in ('a', 'an', 'the')]
    return ' '.join(CONTRACTIONS.get(w, w) for w in words)


def prediction(ans):
    return digit_article(punctuation(ans.replace('\n', ' ').replace('\t', ' ').strip()))


def accuracy(pred, answers):
    p = prediction(pred)
    if len(set(answers)) > 1:
        answers = [punctuation(a) for a in answers]
    accs = [min(1, float(sum(1 for j, a in enumerate(answers) if j != i and a == p)) / 3) for i in range(len(answers))]
    return float(sum(accs)) / len(accs)


INPUTS = ["Two.", "2", "a dog", "dont", "x-ray", "1,000", "  The Cat!  ", "yes, it is", "don't know", "dog ( brown)",
          "3.5", "e.g. a.b.c.", "." * 40 + "x", "ten\tdogs\n", "Im here", "an apple;a pear", "what's that?", "١,٢ items"]
ANSWER_SETS = [
    ("Two.", ["2"] * 10),
    ("two", ["2"] * 7 + ["3"] * 3),
    ("2", ["2", "2", "3", "3", "3", "3", "3", "3", "3", "3"]),
    ("a dog", ["dog"] * 2 + ["cat"] * 8),
    ("x-ray", ["x ray", "xray", "x-ray", "x ray", "x-ray", "x ray", "x-ray", "xray", "x ray", "x-ray"]),
    ("1,000", ["1000"] * 4 + ["1,000"] * 6),
    ("dont", ["don't"] * 10),
    ("yes", ["yes"] * 9 + ["no"]),
    ("no", ["yes"] * 9 + ["no"]),
    ("Yes!", ["yes!", "yes", "yes", "yes", "yes", "no", "no", "no", "no", "no"]),
]
print(json.dumps({
    "normalize": {s: prediction(s) for s in INPUTS},
    "accuracy": [{"prediction": p, "answers": a, "accuracy": accuracy(p, a)} for p, a in ANSWER_SETS],
    "round": {repr(x): round(x, 2) for x in [0.125, 0.375, 2.675, 66.66666666666667, 33.33333333333333, 12.5, 1.005, 99.995]},
}, indent=1, ensure_ascii=False))
