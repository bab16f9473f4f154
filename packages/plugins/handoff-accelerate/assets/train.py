#!/usr/bin/env python3
"""Fine-tunes the model of an mmft handoff bundle with transformers' Trainer and peft, under accelerate.

Written by `mmft handoff --to accelerate`. Every value lives in the bundle's JSON files, not here:
  train_config.json  model, template, freezing, LoRA / QLoRA, per-part learning rates, data files (mmft's plan)
  train_args.json    transformers TrainingArguments, read with HfArgumentParser
Launch with launch.sh (accelerate launch --config_file accelerate_config.yaml train.py).

The chats are tokenised as mmft's causal-LM objective does (packages/plugins/objective-causal-lm/src/
{templates,pieces,encode}.ts): a run of text is re-encoded whole and only its new tokens are appended, labels
are the assistant turns (and their end-of-sequence token), -100 elsewhere and on every image position.
"""
import json
import os
import re
import sys
from pathlib import Path

import torch
import transformers
from transformers import AutoTokenizer, HfArgumentParser, Trainer, TrainingArguments

HERE = Path(__file__).resolve().parent
IGNORE_INDEX = -100
IMAGE = "<image>"
IMAGE_MARKS = re.compile(r"<image>\n?")
PARTS = ("vision", "projector", "language")
DEFAULT_SYSTEMS = {
    "llava_v1": "A chat between a curious human and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the human's questions.",
    "vicuna_v1": "A chat between a curious user and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the user's questions.",
    "chatml": "You are a helpful assistant.",
    "llava_plain": "",
}


def fail(message):
    print(f"train.py: {message}", file=sys.stderr)
    sys.exit(2)


def read_json(name):
    path = HERE / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        fail(f"{path}: {error}")


def read_rows(file):
    path = HERE / file
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except ValueError as error:
                    fail(f"{path}:{number}: {error}")
                row["where"] = f"{path}:{number}"
                rows.append(row)
    return rows


def part_of(name):
    """The model part a parameter or module belongs to, in transformers' LLaVA names (old and >= 4.52 layouts)."""
    words = name.split(".")
    if "vision_tower" in words or "vision_model" in words:
        return "vision"
    if "multi_modal_projector" in words:
        return "projector"
    return "language"


# ---- pieces: (text, target) runs, ("<eos>", target) -------------------------------------------------------

def mark_leading(content, keep):
    if IMAGE not in content:
        return content
    rest = IMAGE_MARKS.sub("", content).strip()
    return f"{IMAGE}\n{rest}" if keep else rest


def split_system(messages, template, default_system):
    own = messages[0]["content"] if messages and messages[0]["role"] == "system" else None
    turns = messages[1:] if own is not None else messages
    if own is not None:
        return own, turns
    return (default_system if default_system is not None else DEFAULT_SYSTEMS.get(template, "")), turns


def two_pieces(system, turns, keep):
    pieces, pending = [], f"{system} "
    for message in turns:
        if message["role"] == "assistant":
            pieces += [(f"{pending}ASSISTANT:", False), (f" {message['content']}", True), (None, True)]
            pending = ""
        else:
            pending += f"USER: {mark_leading(message['content'], keep)} "
    return pieces


def chatml_pieces(system, turns, keep):
    pieces = []
    pending = "" if system == "" else f"<|im_start|>system\n{system}<|im_end|>\n"
    for message in turns:
        if message["role"] == "assistant":
            pieces += [(f"{pending}<|im_start|>assistant\n", False), (f"{message['content']}<|im_end|>", True)]
            pending = "\n"
        else:
            pending += f"<|im_start|>{message['role']}\n{mark_leading(message['content'], keep)}<|im_end|>\n"
    return pieces


def llava_plain_pieces(turns, keep, where):
    if [m["role"] for m in turns] not in (["user", "assistant"], ["assistant"]):
        fail(f"{where}: template llava_plain takes one user turn and one assistant turn")
    pieces = [(IMAGE, False)] if keep else []
    return pieces + [(turns[-1]["content"] + "\n", True)]


def plain_pieces(messages, keep):
    """Rows carry the rendered prompts; each answer joins its prompt with one space and ends with eos."""
    pieces, pending = [], ""
    for message in messages:
        content = message["content"] if keep else IMAGE_MARKS.sub("", message["content"])
        if message["role"] == "system":
            pending += content + "\n"
        elif message["role"] == "user":
            pending += ("" if pending == "" or pending[-1].isspace() else " ") + content
        else:
            if pending:
                pieces.append((pending, False))
            space = "" if pending == "" or pending[-1].isspace() or content[:1].isspace() else " "
            pieces += [(space + content, True), (None, True)]
            pending = ""
    return pieces


def chat_pieces(messages, tokenizer, where):
    pieces, done = [], ""

    def take(text, target, what):
        nonlocal done
        if not text.startswith(done):
            fail(f"{where}: the chat template does not render {what} as an extension of the turns before it")
        if len(text) > len(done):
            pieces.append((text[len(done):], target))
        done = text

    render = lambda turns, prompt: tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=prompt)
    for k, message in enumerate(messages):
        if message["role"] == "assistant":
            take(render(messages[:k], True), False, f"turn {k}'s prompt")
            take(render(messages[: k + 1], False), True, f"turn {k}")
    return pieces


def pieces_of(row, cfg, tokenizer, keep):
    messages = [{"role": m["role"], "content": m["content"]} for m in row["messages"]]
    template = cfg["template"]
    if template == "chat":
        return chat_pieces(messages, tokenizer, row["where"])
    if template == "plain":
        return plain_pieces(messages, keep)
    system, turns = split_system(messages, template, cfg.get("default_system"))
    if template in ("llava_v1", "vicuna_v1"):
        return two_pieces(system, turns, keep)
    if template == "chatml":
        return chatml_pieces(system, turns, keep)
    if template == "llava_plain":
        return llava_plain_pieces(turns, keep, row["where"])
    fail(f"unknown template {template} in train_config.json")


# ---- tokens -------------------------------------------------------------------------------------------

def special_prefix(tokenizer):
    """What the tokenizer puts before a text (bos for Llama, nothing for GPT-2), found by probing."""
    bare = tokenizer("x", add_special_tokens=False)["input_ids"]
    full = tokenizer("x", add_special_tokens=True)["input_ids"]
    for at in range(len(full) - len(bare) + 1):
        if full[at: at + len(bare)] == bare:
            return full[:at]
    return []


def encode_pieces(pieces, tokenizer, prefix, image_token_id, image_count):
    ids, target, image = list(prefix), [False] * len(prefix), [False] * len(prefix)
    run_text, run_ids = "", []
    parts = []
    for text, is_target in pieces:
        if text is None or image_count == 0 or IMAGE not in text:
            parts.append((text, is_target))
            continue
        for i, chunk in enumerate(text.split(IMAGE)):
            if i > 0:
                parts.append(("<image-span>", False))
            if chunk:
                parts.append((chunk, is_target))
    for text, is_target in parts:
        if text == "<image-span>":
            ids += [image_token_id] * image_count
            target += [False] * image_count
            image += [True] * image_count
            run_text, run_ids = "", []
        elif text is None:
            if tokenizer.eos_token_id is None:
                fail("the tokenizer names no eos_token, which the template's targets end with")
            ids.append(tokenizer.eos_token_id)
            target.append(is_target)
            image.append(False)
            run_text, run_ids = "", []
        else:
            joined = run_text + text
            new = tokenizer(joined, add_special_tokens=False)["input_ids"]
            keep = 0
            while keep < min(len(run_ids), len(new)) and run_ids[keep] == new[keep]:
                keep += 1
            drop = len(run_ids) - keep
            if drop:
                del ids[-drop:], target[-drop:], image[-drop:]
            ids += new[keep:]
            target += [is_target] * (len(new) - keep)
            image += [False] * (len(new) - keep)
            run_text, run_ids = joined, new
    return ids, target, image


class ChatRows(torch.utils.data.Dataset):
    def __init__(self, rows, cfg, tokenizer, image_processor, image_token_id, image_count):
        self.rows, self.cfg, self.tokenizer = rows, cfg, tokenizer
        self.image_processor, self.image_token_id, self.image_count = image_processor, image_token_id, image_count
        self.prefix = [] if cfg["template"] == "chat" else special_prefix(tokenizer)
        self.data_dir = (HERE / cfg["data"]["train"]).parent

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        row = self.rows[index]
        keep = self.image_count > 0
        pieces = pieces_of(row, self.cfg, self.tokenizer, keep)
        ids, target, image = encode_pieces(pieces, self.tokenizer, self.prefix, self.image_token_id, self.image_count)
        limit = self.cfg["max_length"]
        if any(image[limit:]):
            fail(f"{row['where']}: max_length {limit} cuts an image span; raise max_length or shorten the row")
        ids, target, image = ids[:limit], target[:limit], image[:limit]
        train_all = self.cfg["train_on_prompt"]
        labels = [i if (not im and (train_all or t)) else IGNORE_INDEX for i, t, im in zip(ids, target, image)]
        item = {"input_ids": ids, "labels": labels}
        paths = row.get("images") or []
        if keep and paths:
            from PIL import Image

            images = []
            for p in paths:
                path = Path(p) if os.path.isabs(p) else self.data_dir / p
                with Image.open(path) as img:
                    images.append(img.convert("RGB"))
            item["pixel_values"] = self.image_processor(images, return_tensors="pt")["pixel_values"]
        return item


def collate(pad_id, pixel_dtype):
    def run(batch):
        width = max(len(b["input_ids"]) for b in batch)
        out = {
            "input_ids": torch.tensor([b["input_ids"] + [pad_id] * (width - len(b["input_ids"])) for b in batch]),
            "labels": torch.tensor([b["labels"] + [IGNORE_INDEX] * (width - len(b["labels"])) for b in batch]),
            "attention_mask": torch.tensor([[1] * len(b["input_ids"]) + [0] * (width - len(b["input_ids"])) for b in batch]),
        }
        pixels = [b["pixel_values"] for b in batch if "pixel_values" in b]
        if pixels:
            # In the model's dtype: DeepSpeed's bf16 / fp16 runs no autocast around the vision tower's convolution.
            out["pixel_values"] = torch.cat(pixels, dim=0).to(pixel_dtype)
        return out

    return run


# ---- model --------------------------------------------------------------------------------------------

def model_dtype(args):
    return torch.bfloat16 if args.bf16 else torch.float16 if args.fp16 else torch.float32


def load_model(cfg, args):
    dtype = model_dtype(args)
    model_cfg = cfg["model"]
    # transformers 4.56 renamed from_pretrained's torch_dtype to dtype.
    kwargs = {"dtype" if _version() >= (4, 56) else "torch_dtype": dtype}
    quant = model_cfg.get("quantization")
    if quant:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type=quant["quant_type"],
            bnb_4bit_use_double_quant=quant["double_quant"],
            bnb_4bit_compute_dtype=dtype,
            # Stored in the compute dtype so FSDP / ZeRO-3 can shard the packed weights (LLaMA-Factory does the same).
            bnb_4bit_quant_storage=dtype,
        )
        if not cfg["sharded"]:
            kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}
    path = model_cfg["path"]
    if model_cfg["kind"] == "llava":
        from transformers import AutoProcessor, LlavaForConditionalGeneration

        model = LlavaForConditionalGeneration.from_pretrained(path, **kwargs)
        processor = AutoProcessor.from_pretrained(path)
        tokenizer = processor.tokenizer
        vision = model.config.vision_config
        count = (vision.image_size // vision.patch_size) ** 2
        if getattr(model.config, "vision_feature_select_strategy", "default") == "full":
            count += 1
        image_token_id = getattr(model.config, "image_token_id", None)
        if image_token_id is None:
            image_token_id = model.config.image_token_index
        return model, tokenizer, processor, processor.image_processor, image_token_id, count
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    return model, AutoTokenizer.from_pretrained(path), None, None, None, 0


def _version():
    return tuple(int(x) for x in re.findall(r"\d+", transformers.__version__)[:2])


# transformers >= 4.52 nests LLaVA's parts under `model.`; mmft (and the recipe's module patterns) use the older names.
NEW_LAYOUT = (
    ("model.language_model.", "language_model.model."),
    ("model.vision_tower.", "vision_tower."),
    ("model.multi_modal_projector.", "multi_modal_projector."),
)


def mmft_name(name, kind):
    """A module's name as mmft (and transformers < 4.52) writes it."""
    if kind != "llava":
        return name
    for new, old in NEW_LAYOUT:
        if name.startswith(new):
            return old + name[len(new):]
    return "language_model.lm_head" if name == "lm_head" else name


def matches(name, spec):
    """PEFT's module matching (tuners_utils.py check_target_module_exists): a string is a full regex match, a list
    matches a name or a `.name` suffix."""
    if isinstance(spec, str):
        return re.fullmatch(spec, name) is not None
    return any(name == s or name.endswith("." + s) for s in spec)


def lora_targets(model, cfg):
    """The modules LoRA wraps, by their names in this transformers version, chosen as mmft's peft-lora chooses them
    (packages/plugins/peft-lora/src/model.ts applyLora): Linear / Conv1D layers the target names, or every one but the
    output layer for "all-linear", never inside modules_to_save or exclude_modules, matched on mmft's module names."""
    peft_cfg, kind = cfg["peft"], cfg["model"]["kind"]
    layer_types = [torch.nn.Linear]
    try:
        from transformers.pytorch_utils import Conv1D

        layer_types.append(Conv1D)
    except ImportError:
        pass
    output = model.get_output_embeddings()
    target, exclude, saved = peft_cfg["target_modules"], peft_cfg.get("exclude_modules"), peft_cfg["modules_to_save"]
    names = []
    for name, module in model.named_modules():
        if not isinstance(module, tuple(layer_types)):
            continue
        legacy = mmft_name(name, kind)
        parts = legacy.split(".")
        if saved and any(matches(".".join(parts[:i]), saved) for i in range(1, len(parts) + 1)):
            continue
        if exclude is not None and matches(legacy, exclude):
            continue
        if target == "all-linear" and module is not output or target != "all-linear" and matches(legacy, target):
            names.append(name)
    if not names:
        fail("no Linear layer matches peft.target_modules outside modules_to_save and exclude_modules")
    return names


def apply_tuning(model, cfg, args):
    freeze = cfg["freeze"]
    peft_cfg = cfg.get("peft")
    if peft_cfg is None:
        for name, param in model.named_parameters():
            param.requires_grad = not freeze[part_of(name)]
        return model
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if cfg["model"].get("quantization"):
        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=args.gradient_checkpointing,
            gradient_checkpointing_kwargs=args.gradient_checkpointing_kwargs,
        )
    lora = LoraConfig(
        r=peft_cfg["r"],
        lora_alpha=peft_cfg["lora_alpha"],
        lora_dropout=peft_cfg["lora_dropout"],
        # Exact module names: the recipe's patterns are resolved on mmft's names above, whatever the layout.
        target_modules=lora_targets(model, cfg),
        modules_to_save=peft_cfg["modules_to_save"] or None,
        use_rslora=peft_cfg["use_rslora"],
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    # Frozen parts stay frozen even where the target modules reach into them (mmft's train.freeze).
    for name, param in model.named_parameters():
        if param.requires_grad and freeze[part_of(name)] and "modules_to_save" not in name:
            param.requires_grad = False
    return model


class PartRateTrainer(Trainer):
    """AdamW with one learning rate per model part (mmft's train.lr_groups); decay rules as the Trainer's."""

    part_rates = {}

    def create_optimizer(self, *rest, **kw):
        if self.optimizer is None and self.part_rates:
            model = self.model
            decay = set(self.get_decay_parameter_names(model))
            groups = {}
            for name, param in model.named_parameters():
                if not param.requires_grad:
                    continue
                lr = self.part_rates.get(part_of(name), self.args.learning_rate)
                wd = self.args.weight_decay if name in decay else 0.0
                groups.setdefault((lr, wd), []).append(param)
            try:
                optimizer_cls, optimizer_kwargs = Trainer.get_optimizer_cls_and_kwargs(self.args, model)
            except TypeError:  # transformers < 4.39 takes the arguments only
                optimizer_cls, optimizer_kwargs = Trainer.get_optimizer_cls_and_kwargs(self.args)
            optimizer_kwargs.pop("lr", None)
            self.optimizer = optimizer_cls(
                [{"params": params, "lr": lr, "weight_decay": wd} for (lr, wd), params in groups.items()], **optimizer_kwargs
            )
            return self.optimizer
        return super().create_optimizer(*rest, **kw)


def main():
    cfg = read_json("train_config.json")
    (args,) = HfArgumentParser(TrainingArguments).parse_json_file(str(HERE / "train_args.json"))
    transformers.set_seed(args.seed)
    model, tokenizer, processor, image_processor, image_token_id, image_count = load_model(cfg, args)
    if args.gradient_checkpointing:
        model.config.use_cache = False
    model = apply_tuning(model, cfg, args)
    # mmft keeps trainable weights (LoRA, saved modules, unfrozen parts) in float32; the run precision is for compute.
    # Not under FSDP, whose flattened parameters must share one dtype.
    for param in model.parameters() if cfg["upcast_trainable"] else []:
        if param.requires_grad and param.is_floating_point() and param.dtype != torch.float32:
            param.data = param.data.float()
    if int(os.environ.get("RANK", "0")) == 0:
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        print(f"train.py: {trainable} trainable parameters", flush=True)
    train = ChatRows(read_rows(cfg["data"]["train"]), cfg, tokenizer, image_processor, image_token_id, image_count)
    evaluation = None
    if cfg["data"].get("eval"):
        evaluation = ChatRows(read_rows(cfg["data"]["eval"]), cfg, tokenizer, image_processor, image_token_id, image_count)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    PartRateTrainer.part_rates = {part: lr for part, lr in cfg["lr_groups"].items() if part in PARTS}
    trainer = PartRateTrainer(model=model, args=args, train_dataset=train, eval_dataset=evaluation, data_collator=collate(pad_id, model_dtype(args)))
    trainer.train()
    if evaluation is not None and cfg["evaluate_at_end"]:
        trainer.evaluate()
    trainer.save_model(args.output_dir)
    trainer.save_state()
    if trainer.is_world_process_zero():
        (processor or tokenizer).save_pretrained(args.output_dir)


if __name__ == "__main__":
    main()
