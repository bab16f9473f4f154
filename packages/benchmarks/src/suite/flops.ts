// Analytic FLOP count of one CLIP training step (2 FLOPs per multiply-add, GEMMs only: LayerNorm,
// softmax, activations and the optimizer are left out and are a few percent). Forward GEMMs of a
// tower layer with T tokens, width D, MLP width I: q/k/v/out 4·2TD², scores and context 2·2T²D,
// MLP 2·2TDI. Backward costs one GEMM per operand that needs a gradient, so a trainable linear is
// 3× its forward, a frozen one that gradients pass through 2×, a frozen one nothing flows into 1×.

/** Tower shapes of a CLIP config (HF CLIPConfig fields). */
export interface ClipShape {
  readonly imageSize: number;
  readonly patchSize: number;
  readonly vision: { readonly width: number; readonly layers: number; readonly mlp: number };
  readonly text: { readonly width: number; readonly layers: number; readonly mlp: number };
  readonly textLength: number;
  readonly projection: number;
}

/** How the weights of a tower train. */
export type TowerMode = 'trained' | 'frozen-through' | 'frozen';

/** Forward GEMM FLOPs of one sample: linear (weights) and attention (activation × activation) parts. */
function towerForward(tokens: number, t: ClipShape['vision']): { linear: number; attention: number } {
  const perLayerLinear = 4 * 2 * tokens * t.width * t.width + 2 * 2 * tokens * t.width * t.mlp;
  const perLayerAttention = 2 * 2 * tokens * tokens * t.width;
  return { linear: t.layers * perLayerLinear, attention: t.layers * perLayerAttention };
}

/**
 * FLOPs of one forward pass and of one training step for `batch` samples.
 *
 * @example
 * trainStepFlops(shape, 32, { vision: 'trained', text: 'trained' }).step; // ≈ 3 × forward
 */
export function trainStepFlops(
  shape: ClipShape,
  batch: number,
  modes: { vision: TowerMode; text: TowerMode },
): { forward: number; step: number } {
  const patches = (shape.imageSize / shape.patchSize) ** 2;
  const vision = towerForward(patches + 1, shape.vision);
  const text = towerForward(shape.textLength, shape.text);
  const patchEmbed = 2 * patches * 3 * shape.patchSize ** 2 * shape.vision.width;
  const projections = 2 * shape.vision.width * shape.projection + 2 * shape.text.width * shape.projection;
  const logits = 2 * batch * shape.projection; // per sample: one row of the B×B similarity
  const factor = (mode: TowerMode, kind: 'linear' | 'attention') =>
    mode === 'frozen' ? 1 : mode === 'trained' || kind === 'attention' ? 3 : 2;
  const towerStep = (f: { linear: number; attention: number }, mode: TowerMode) =>
    f.linear * factor(mode, 'linear') + f.attention * factor(mode, 'attention');
  const forward = vision.linear + vision.attention + text.linear + text.attention + patchEmbed + projections + logits;
  const step =
    towerStep(vision, modes.vision) +
    towerStep(text, modes.text) +
    patchEmbed * (modes.vision === 'trained' ? 2 : 1) +
    projections * 3 +
    logits * 3;
  return { forward: forward * batch, step: step * batch };
}

/** ClipShape of an HF CLIPConfig object (text length from the experiment). */
export function clipShapeOf(config: Record<string, unknown>, textLength: number): ClipShape {
  const v = (config.vision_config ?? {}) as Record<string, number>;
  const t = (config.text_config ?? {}) as Record<string, number>;
  return {
    imageSize: v.image_size ?? 224,
    patchSize: v.patch_size ?? 32,
    vision: { width: v.hidden_size ?? 768, layers: v.num_hidden_layers ?? 12, mlp: v.intermediate_size ?? 3072 },
    text: { width: t.hidden_size ?? 512, layers: t.num_hidden_layers ?? 12, mlp: t.intermediate_size ?? 2048 },
    textLength,
    projection: (config.projection_dim as number | undefined) ?? 512,
  };
}
