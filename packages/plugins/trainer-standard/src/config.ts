// The recipe's `train:` section for `type: standard`. Field names follow Hugging Face
// TrainingArguments (transformers/training_args.py) where one exists; defaults are torch's AdamW
// (torch/optim/adamw.py) and HF's, with the reasons in docs/training.md.
import { z } from 'zod';

const positiveInt = () => z.number().int().positive();

// Contrastive-only settings kept here so recipes written before `objective:` run unchanged; the
// contrastive objective reads them where its own section leaves them out (no defaults here).
const headSchema = z
  .strictObject({
    type: z
      .enum(['linear', 'mlp'])
      .optional()
      .describe('linear: one projection per modality (identity init); mlp: residual two-layer adapter (zero-init output)'),
    hidden: positiveInt().optional().describe('hidden width of the mlp head (default: the feature width)'),
  })
  .describe('same as objective.head (the head of the feature-based mode)');

export const trainConfigSchema = z
  .strictObject({
    lr: z.number().positive().default(5e-5).describe('peak learning rate (HF TrainingArguments.learning_rate default 5e-5)'),
    weight_decay: z.number().min(0).default(0.01).describe('decoupled weight decay of AdamW (torch.optim.AdamW default 0.01)'),
    betas: z
      .tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)])
      .default([0.9, 0.999])
      .describe('AdamW (beta1, beta2), torch defaults'),
    eps: z.number().positive().default(1e-8).describe('AdamW epsilon, added after the bias-corrected square root (torch default 1e-8)'),
    warmup_steps: z.number().int().min(0).default(0).describe('linear warmup from 0 to lr over this many optimizer steps'),
    schedule: z
      .enum(['cosine', 'linear', 'constant'])
      .default('linear')
      .describe('decay after warmup: cosine to 0, linear to 0, or constant (HF default linear)'),
    max_steps: positiveInt().optional().describe('total optimizer steps; overrides epochs when set'),
    epochs: positiveInt().default(3).describe('passes over data.train when max_steps is not set (HF num_train_epochs 3)'),
    batch_size: positiveInt()
      .default(8)
      .describe(
        'examples per micro-batch (HF per_device_train_batch_size 8); the last batch of an epoch may be smaller (see dataloader_drop_last)',
      ),
    dataloader_drop_last: z
      .boolean()
      .default(false)
      .describe(
        'drop the incomplete last batch of each epoch (HF default false: train on it; a last batch of one example is always dropped, it has no negatives)',
      ),
    eval_batch_size: positiveInt().optional().describe('examples per evaluation batch (default batch_size)'),
    grad_accum_steps: positiveInt().default(1).describe('micro-batches whose gradients are summed per optimizer step'),
    max_grad_norm: z.number().min(0).default(1).describe('clip the global gradient L2 norm to this (0 disables; HF default 1.0)'),
    seed: z.number().int().optional().describe('seed of shuffling, caption choice and augmentation (default: the recipe seed, else 42)'),
    log_every: positiveInt().default(10).describe('report a progress line every this many steps (metrics.jsonl gets every step)'),
    report_to: z
      .union([z.literal('none'), z.array(z.string().min(1))])
      .optional()
      .describe(
        'experiment trackers the run logs to (HF TrainingArguments.report_to): tensorboard writes <output_dir>/tensorboard/events.out.tfevents.*; ' +
          'absent means [tensorboard] when that plugin is loaded (it is built in); [] or none turns tracking off',
      ),
    overfit_batches: positiveInt()
      .optional()
      .describe(
        'sanity run (Lightning Trainer(overfit_batches=N)): train over and over on the first N batches of data.train, unshuffled and ' +
          'collated the same way each time, and report at the end whether the loss falls towards zero (mmft train --sanity sets it)',
      ),
    eval_only: z.boolean().default(false).describe('evaluate the model on data.eval and stop without training (mmft eval recipe sets it)'),
    eval_before: z
      .boolean()
      .default(true)
      .describe('evaluate once before the first step of a fresh run, so the end summary shows before and after'),
    eval_every: positiveInt().optional().describe('evaluate every this many steps (default: once, at the end) when data.eval is given'),
    save_every: positiveInt().optional().describe('write checkpoint-last every this many steps (default: only at the end)'),
    metric_for_best: z
      .string()
      .optional()
      .describe(
        'score that picks checkpoint-best, "<metric id>.<score>" (e.g. retrieval.i2t_R@1, vqa.accuracy), eval_loss (default) or perplexity (objective causal-lm)',
      ),
    greater_is_better: z
      .boolean()
      .optional()
      .describe("direction of metric_for_best (default: the metric's declared direction; eval_loss lower)"),
    early_stopping_patience: positiveInt().optional().describe('stop after this many evaluations without improvement of metric_for_best'),
    strategy: z
      .enum(['full', 'lock-image', 'feature-based'])
      .default('full')
      .describe(
        "full: train all (unfrozen) weights (with peft: only the adapter); lock-image: freeze the model's vision tower (CLIP: vision_model + visual_projection; LiT); feature-based: frozen encoders, cached features, train a head (objective contrastive only)",
      ),
    freeze: z
      .array(z.string())
      .default([])
      .describe(
        'tower names the model declares (vision, text, projector, language...) or parameter-name globs (e.g. "vision_model.**") to freeze, applied before unfreeze',
      ),
    unfreeze: z
      .array(z.string())
      .default([])
      .describe('tower names or parameter-name globs to train even when frozen by strategy or freeze'),
    gradient_checkpointing: z
      .union([
        z.boolean(),
        z.strictObject({
          every_n_blocks: positiveInt().describe('checkpoint blocks 0, N, 2N, … of every stack (1 = every block)'),
        }),
      ])
      .default(false)
      .describe(
        'recompute each transformer block in the backward pass instead of keeping its activations (HF gradient_checkpointing): ' +
          'less memory for about one more forward pass of time; true = every block; gradients are unchanged',
      ),
    frozen_dtype: z
      .enum(['f32', 'bf16', 'fp16'])
      .default('f32')
      .describe(
        'storage of frozen Linear weights (bf16/fp16: half the memory, rounded to nearest even once, as torch_dtype does; ' +
          'computed in float32). Trainable weights, LoRA weights, norms, embeddings and optimizer state stay float32',
      ),
    lr_groups: z
      .array(
        z.strictObject({
          params: z
            .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
            .describe('tower names the model declares (projector, vision, language...) or parameter-name globs'),
          lr: z.number().positive().describe("peak learning rate of these parameters (train.lr stays the rest's)"),
        }),
      )
      .default([])
      .describe(
        "learning rates per parameter group, e.g. LLaVA's mm_projector_lr: [{ params: projector, lr: 2e-5 }]; warmup and decay " +
          'scale every group, weight decay rules are unchanged; a parameter takes the first group that matches it',
      ),
    no_decay: z
      .array(z.string())
      .default([])
      .describe('extra parameter-name globs excluded from weight decay (biases, norms, embeddings, 1-D and logit_* are always excluded)'),
    hard_negatives: z.boolean().optional().describe('same as objective.hard_negatives (contrastive; default true)'),
    max_text_length: positiveInt().optional().describe('same as objective.max_text_length (contrastive; default 77)'),
    head: headSchema.optional().describe('same as objective.head (contrastive feature-based mode)'),
  })
  .describe('the standard trainer: AdamW, warmup + decay, accumulation, clipping, eval, checkpoints');

export type TrainConfig = z.output<typeof trainConfigSchema>;
