// Composing a fresh BLIP-2 from parts, the recipe's `init: { vision, qformer, language_model }`:
// a CLIP (or BLIP-2) vision tower, the Q-Former of a BLIP-2 folder, and a causal-LM folder. LAVIS
// builds its BLIP-2 the same way (lavis/models/blip2_models/blip2.py init_vision_encoder loads a
// pretrained ViT, blip2_opt.py loads OPT with from_pretrained), and transformers'
// Blip2ForConditionalGeneration keeps the parts under `vision_model.*`, `qformer.*` /
// `query_tokens` and `language_model.*` (src/transformers/models/blip_2/modeling_blip_2.py).
//
// This module is the entry point (scripts/compare-clip-blip2-vision.mjs loads it by path); the work
// is split by step: init-schema.ts (the recipe block and the reports), resolve-init-config.ts (the
// Blip2Config the parts imply), clip-vision-config.ts, clip-to-blip2-vision.ts and
// clip-pre-layernorm.ts (a CLIP tower as Blip2VisionModel, pre_layrnorm folded or dropped),
// part-folders.ts (reading the folders, checked writes) and apply-init.ts (copying the parts in).
export { blip2InitSchema, type Blip2Init, type Blip2InitPlan, type Blip2InitReport, type PreLayerNormReport } from './init-schema';
export { blip2VisionConfigFromClip } from './clip-vision-config';
export { resolveBlip2Config } from './resolve-init-config';
export { estimateClipEmbeddingStd, type ClipPreLayerNormOptions, type PixelModel } from './clip-pre-layernorm';
export { applyBlip2Init, type Blip2InitTarget } from './apply-init';
