# -*- coding: utf-8 -*-
# Runs the upstream VQAEval class itself on the cases below and prints what it reports, so the
# `variant` tests compare with the real evaluators, not with a re-reading of them. Nothing of
# upstream is copied here: the evaluator is loaded from the path given on the command line.
#
#   official (GT-Vision-Lab/VQA PythonEvaluationTools/vqaEvaluation/vqaEval.py at a013f00; the
#   file has Python 2 print statements, so Python 2.7 is the interpreter it runs under):
#     python2.7 vqa_reference.py <checkout>/PythonEvaluationTools/vqaEvaluation/vqaEval.py > vqa-reference-official.json
#   lavis (salesforce/LAVIS lavis/common/vqa_tools/vqa_eval.py, Python 3):
#     python3 vqa_reference.py <checkout>/lavis/common/vqa_tools/vqa_eval.py > vqa-reference-lavis.json
import json
import sys

# (prediction, human answers, answer type). Non-ASCII is written as escapes so the file reads the
# same under both interpreters.
CASES = [
    (u"Yes", [u"yes"] * 10, u"yes/no"),
    (u"yes.", [u"yes"] * 10, u"yes/no"),
    (u"Yes", [u"Yes"] * 10, u"yes/no"),
    (u" yes\t", [u"yes"] * 10, u"yes/no"),
    (u"no", [u"yes"] * 9 + [u"no"], u"yes/no"),
    (u"Yes!", [u"yes!", u"yes", u"yes", u"yes", u"yes", u"no", u"no", u"no", u"no", u"no"], u"yes/no"),
    (u"yes", [u"yes\n"] * 3 + [u"no"] * 7, u"yes/no"),
    (u"dog", [u"a dog", u"the dog", u"dog"] + [u"cat"] * 7, u"other"),
    (u"Dog", [u"dog"] * 2 + [u"Dog"] * 2 + [u"cat"] * 6, u"other"),
    (u"dont", [u"don't"] * 10, u"other"),
    (u"x-ray", [u"x ray", u"xray", u"x-ray", u"x ray", u"x-ray", u"x ray", u"x-ray", u"xray", u"x ray", u"x-ray"], u"other"),
    (u"Two.", [u"2"] * 10, u"number"),
    (u"two", [u"2"] * 7 + [u"3"] * 3, u"number"),
    (u"2", [u"two"] * 8 + [u"2"] * 2, u"number"),
    (u"1,000", [u"1000"] * 4 + [u"1,000"] * 6, u"number"),
    # Python 2 and Python 3 differ: `\d` (ASCII in Python 2's re without re.UNICODE), lower-casing
    # (simple per-character mapping in Python 2) and whitespace (U+180E is a space in Python 2.7).
    (u"\u0661,\u0662", [u"\u0661\u0662"] * 3 + [u"x"] * 7, u"number"),
    (u"\u0130", [u"i"] * 3 + [u"x"] * 7, u"other"),
    (u"\u039f\u0394\u039f\u03a3", [u"\u03bf\u03b4\u03bf\u03c3"] * 3 + [u"x"] * 7, u"other"),
    (u"yes\u180e", [u"yes"] * 3 + [u"no"] * 7, u"yes/no"),
]

# Rounding ties reach the reported numbers: n questions, the first `right` answered correctly.
TIES = [{"n": 0, "right": 5, "total": 8}, {"n": 2, "right": 1, "total": 800}, {"n": 1, "right": 1, "total": 16}]


def load(path):
    if sys.version_info[0] == 2:
        import imp
        return imp.load_source("vqa_eval_under_test", path)
    import importlib.util
    spec = importlib.util.spec_from_file_location("vqa_eval_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Store(object):
    """The two attributes VQAEval reads from its `vqa` / `vqaRes` objects."""

    def __init__(self, qa, ids):
        self.qa = qa
        self.ids = ids

    def getQuesIds(self):
        return list(self.ids)


def evaluate(module, questions, n):
    ids = list(range(1, len(questions) + 1))
    gts, res = {}, {}
    for qid, (prediction, answers, answer_type) in zip(ids, questions):
        gts[qid] = {
            "answers": [{"answer": a, "answer_confidence": u"yes", "answer_id": k + 1} for k, a in enumerate(answers)],
            "answer_type": answer_type,
            "question_type": u"what",
        }
        res[qid] = {"answer": prediction}
    evaluator = module.VQAEval(Store(gts, ids), Store(res, ids), n=n)
    stdout = sys.stdout
    sys.stdout = open("/dev/null", "w")  # its progress bar
    try:
        evaluator.evaluate()
    finally:
        sys.stdout.close()
        sys.stdout = stdout
    return evaluator


def main():
    module = load(sys.argv[1])
    evaluator = evaluate(module, CASES, 2)
    ties = []
    for tie in TIES:
        questions = [(u"cat", [u"cat"] * 10, u"other")] * tie["right"] + [(u"dog", [u"cat"] * 10, u"other")] * (tie["total"] - tie["right"])
        ties.append(dict(tie, overall=evaluate(module, questions, tie["n"]).accuracy["overall"]))
    print(json.dumps({
        "python": "%d.%d.%d" % sys.version_info[:3],
        "cases": [{"prediction": p, "answers": a, "answer_type": t, "accuracy": evaluator.evalQA[i + 1]} for i, (p, a, t) in enumerate(CASES)],
        "overall": evaluator.accuracy["overall"],
        "per_answer_type": evaluator.accuracy["perAnswerType"],
        "ties": ties,
        "round": dict((repr(x), round(x, 2)) for x in [0.125, 0.375, 2.675, 66.66666666666667, 33.33333333333333, 12.5, 1.005, 99.995, 0.005, 62.5]),
    }, indent=1, sort_keys=True, separators=(',', ': ')))


main()
