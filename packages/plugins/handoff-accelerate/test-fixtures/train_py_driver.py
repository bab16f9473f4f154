"""Runs assets/train.py's chat encoding without torch or transformers (this machine has neither for the
bundle's Python): stub modules stand in for them and a toy tokenizer replaces the model's. Reads a JSON job on
stdin ({"rows": [...], "config": {...}, "image_count": n}) and prints each row's input_ids and labels, or
({"mode": "targets", "modules": [[name, is_linear]...], "output": name, "config": {...}}) and prints the LoRA targets."""
import importlib.util
import json
import sys
import types
from pathlib import Path

torch = types.ModuleType("torch")
torch.utils = types.SimpleNamespace(data=types.SimpleNamespace(Dataset=object))
torch.nn = types.SimpleNamespace(Linear=type("Linear", (), {}))
sys.modules["torch"] = torch
transformers = types.ModuleType("transformers")
transformers.__version__ = "4.57.0"
for name in ("AutoTokenizer", "HfArgumentParser", "TrainingArguments", "Trainer"):
    setattr(transformers, name, type(name, (), {}))
sys.modules["transformers"] = transformers

spec = importlib.util.spec_from_file_location("train", sys.argv[1])
train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train)


class ToyTokenizer:
    """One id per character (its code point), except ": " which is one token (500), bos 1, eos 2."""

    eos_token_id = 2
    pad_token_id = 0

    def __call__(self, text, add_special_tokens=True):
        ids, i = [], 0
        while i < len(text):
            if text[i: i + 2] == ": ":
                ids.append(500)
                i += 2
            else:
                ids.append(ord(text[i]))
                i += 1
        return {"input_ids": ([1] if add_special_tokens else []) + ids}

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=False):
        text = "".join(f"[{m['role']}]{m['content']}[/]" for m in messages)
        return text + ("[assistant]" if add_generation_prompt else "")


class ToyModel:
    """named_modules() of the given (name, is_linear) pairs; the output layer is the one named `output`."""

    def __init__(self, modules, output):
        self.modules = [(name, torch.nn.Linear() if linear else object()) for name, linear in modules]
        self.output = dict(self.modules).get(output)

    def named_modules(self):
        return iter(self.modules)

    def get_output_embeddings(self):
        return self.output


job = json.load(sys.stdin)
if job.get("mode") == "targets":
    print(json.dumps(train.lora_targets(ToyModel(job["modules"], job["output"]), job["config"])))
    sys.exit(0)
rows = [dict(row, where=f"row {i}") for i, row in enumerate(job["rows"])]
dataset = train.ChatRows(rows, job["config"], ToyTokenizer(), None, 9999, job["image_count"])
print(json.dumps([dataset[i] for i in range(len(rows))]))
