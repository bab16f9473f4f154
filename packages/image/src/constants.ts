// Normalisation constants of common vision encoders, as transformers defines them
// (src/transformers/image_utils.py: OPENAI_CLIP_MEAN/STD, IMAGENET_DEFAULT_MEAN/STD).

/** Per-channel RGB mean of OpenAI CLIP's training images (0–1 scale): mmft's default. */
export const OPENAI_CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
/** Per-channel RGB std of OpenAI CLIP's training images (0–1 scale). */
export const OPENAI_CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
/** ImageNet mean/std, used by ViT, BLIP-2's EVA encoder configs and most torchvision models. */
export const IMAGENET_DEFAULT_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_DEFAULT_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];
