// Reusable emitters for the layers every exported model has, written against opset 17:
// LayerNormalization exists there (opset 17), RMSNormalization does not (opset 23), nor does Gelu
// (opset 20), so RMSNorm and GELU are decomposed the way torch's TorchScript exporter writes
// aten::gelu below opset 20 (pytorch/pytorch torch/onnx/symbolic_opset9.py: Erf form, and the Tanh
// form for approximate="tanh"). quick_gelu is transformers' QuickGELUActivation
// (src/transformers/activations.py): x·sigmoid(1.702x).
import { MmftError } from '@mmft/core';
import type { AnyModule } from '@mmft/core/nn';
import type { ConstTensor, OnnxGraph } from './graph';

/** A float32 weight as the model holds it, with its dims. */
export interface Weight {
  data: Float32Array;
  dims: number[];
}
/** Where the emitters read weights from, by Hugging Face state-dict name. */
export type WeightLookup = (name: string) => Weight;

const graphWeights = new WeakMap<OnnxGraph, WeightLookup>();

/** Attaches the weights the emitters of this graph read (usually `weightsOf(model.root)`). */
export function useWeights(g: OnnxGraph, weights: WeightLookup): void {
  graphWeights.set(g, weights);
}

function lookup(g: OnnxGraph, given?: WeightLookup): WeightLookup {
  const w = given ?? graphWeights.get(g);
  if (!w) {
    throw new MmftError('E_CONFIG', `graph ${g.name}: no weights to read`, { hint: 'call useWeights(g, weightsOf(model.root)) first' });
  }
  return w;
}

/**
 * A parameter of the module tree by its state-dict name, copied out as float32.
 *
 * @example
 * const { data, dims } = weightOf(model.root, 'text_model.final_layer_norm.weight');
 */
export function weightOf(root: AnyModule, name: string): Weight {
  return weightsOf(root)(name);
}

/** A lookup over the module tree's state dict (read once). */
export function weightsOf(root: AnyModule): WeightLookup {
  const dict = root.stateDict();
  return (name) => {
    const v = dict.get(name);
    if (!v) {
      const near = [...dict.keys()].filter((k) => k.endsWith(name.split('.').slice(-2).join('.'))).slice(0, 3);
      throw new MmftError('E_CHECKPOINT', `the model has no parameter ${name}${near.length ? ` (similar: ${near.join(', ')})` : ''}`, {
        hint: 'merge adapters and restore 16/4-bit weights to float32 before export (the exporter does both for models it loads itself)',
      });
    }
    const data = v.dtype === 'float32' ? (v.dataSync() as Float32Array) : Float32Array.from(v.dataSync() as ArrayLike<number>);
    return { data: Float32Array.from(data), dims: [...v.shape] };
  };
}

/** A float32 scalar (dims []) as a fresh constant. */
export function scalar(g: OnnxGraph, value: number, hint = 'scalar'): string {
  return g.constant({ dtype: 'float32', dims: [], data: new Float32Array([value]) }, hint);
}

/** An int64 1-D constant (shapes, axes, indices). */
export function int64s(g: OnnxGraph, values: readonly number[], hint = 'ints'): string {
  return g.constant({ dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) }, hint);
}

function f32(w: Weight): ConstTensor {
  return { dtype: 'float32', dims: w.dims, data: w.data };
}

/** [rows, cols] → [cols, rows]. */
export function transpose2d(w: Weight): Weight {
  const [rows, cols] = w.dims as [number, number];
  if (w.dims.length !== 2) throw new MmftError('E_SHAPE', `transpose2d: expected a 2-D weight, got dims [${w.dims.join(', ')}]`);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w.data[r * cols + c]!;
  return { data: out, dims: [cols, rows] };
}

/** Adds the named weight as an initializer once (tied or reused weights share it). */
export function weightInitializer(
  g: OnnxGraph,
  name: string,
  options: { weights?: WeightLookup; transform?: (w: Weight) => Weight } = {},
): string {
  if (g.has(name)) return name;
  const w = lookup(g, options.weights)(name);
  return g.initializer(name, f32(options.transform ? options.transform(w) : w));
}

/** Writes a Linear's product x·Wᵀ some other way (the 4-bit export's MatMulBnb4, src/bnb4.ts), or returns undefined for the plain MatMul. */
export type LinearHook = (g: OnnxGraph, x: string, prefix: string) => string | undefined;
const linearHooks = new WeakMap<OnnxGraph, LinearHook>();

/** Installs `hook` for every `linear` of this graph. */
export function useLinearHook(g: OnnxGraph, hook: LinearHook): void {
  linearHooks.set(g, hook);
}

/**
 * A Linear layer: MatMul with `${prefix}.weight` stored [in, out] (the Hugging Face [out, in]
 * weight transposed at export, as torch.onnx writes nn.Linear), then Add `${prefix}.bias`.
 * `transposeWeight: false` is for weights already [in, out] (GPT-2's Conv1D).
 *
 * @example
 * useWeights(g, weightsOf(model.root));
 * const q = linear(g, hidden, 'model.layers.0.self_attn.q_proj', { bias: false });
 */
export function linear(
  g: OnnxGraph,
  x: string,
  prefix: string,
  options: { bias?: boolean; transposeWeight?: boolean; weights?: WeightLookup } = {},
): string {
  const y =
    linearHooks.get(g)?.(g, x, prefix) ??
    g.op1(
      'MatMul',
      [
        x,
        weightInitializer(g, `${prefix}.weight`, {
          weights: options.weights,
          transform: options.transposeWeight === false ? undefined : transpose2d,
        }),
      ],
      {},
      {
        name: `/${prefix}/MatMul`,
      },
    );
  if (options.bias === false) return y;
  const bias = weightInitializer(g, `${prefix}.bias`, { weights: options.weights });
  return g.op1('Add', [y, bias], {}, { name: `/${prefix}/Add` });
}

/** LayerNormalization (opset 17) over the last axis with `${prefix}.weight` and `${prefix}.bias`. */
export function layerNorm(g: OnnxGraph, x: string, prefix: string, eps: number, options: { weights?: WeightLookup } = {}): string {
  const scale = weightInitializer(g, `${prefix}.weight`, options);
  const bias = weightInitializer(g, `${prefix}.bias`, options);
  return g.op1('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: eps }, { name: `/${prefix}/LayerNormalization` });
}

/** LlamaRMSNorm decomposed: x / sqrt(mean(x²) + eps) · `${prefix}.weight` (ReduceMean's axes are an attribute at opset 17). */
export function rmsNorm(g: OnnxGraph, x: string, prefix: string, eps: number, options: { weights?: WeightLookup } = {}): string {
  const weight = weightInitializer(g, `${prefix}.weight`, options);
  const square = g.op1('Mul', [x, x], {}, { name: `/${prefix}/Square` });
  const mean = g.op1('ReduceMean', [square], { axes: [-1], keepdims: 1 }, { name: `/${prefix}/ReduceMean` });
  const std = g.op1('Sqrt', [g.op1('Add', [mean, scalar(g, eps, `${prefix}/eps`)])], {}, { name: `/${prefix}/Sqrt` });
  const normed = g.op1('Div', [x, std], {}, { name: `/${prefix}/Div` });
  return g.op1('Mul', [normed, weight], {}, { name: `/${prefix}/Mul` });
}

/** quick_gelu: x·sigmoid(1.702x). */
export function quickGelu(g: OnnxGraph, x: string): string {
  return g.op1('Mul', [x, g.op1('Sigmoid', [g.op1('Mul', [x, scalar(g, 1.702, 'quick_gelu_alpha')])])]);
}

/** Exact GELU: 0.5·x·(1 + erf(x/√2)). */
export function gelu(g: OnnxGraph, x: string): string {
  const erf = g.op1('Erf', [g.op1('Div', [x, scalar(g, Math.SQRT2, 'sqrt2')])]);
  const onePlus = g.op1('Add', [erf, scalar(g, 1, 'one')]);
  return g.op1('Mul', [g.op1('Mul', [x, onePlus]), scalar(g, 0.5, 'half')]);
}

/** GELU, tanh approximation (gelu_new, gelu_pytorch_tanh): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715x³))). */
export function geluTanh(g: OnnxGraph, x: string): string {
  const cube = g.op1('Mul', [g.op1('Mul', [x, x]), x]);
  const inner = g.op1('Add', [x, g.op1('Mul', [cube, scalar(g, 0.044715, 'gelu_c')])]);
  const t = g.op1('Tanh', [g.op1('Mul', [inner, scalar(g, Math.sqrt(2 / Math.PI), 'sqrt_2_over_pi')])]);
  const onePlus = g.op1('Add', [t, scalar(g, 1, 'one')]);
  return g.op1('Mul', [g.op1('Mul', [x, onePlus]), scalar(g, 0.5, 'half')]);
}

/** SiLU / swish: x·sigmoid(x). */
export function silu(g: OnnxGraph, x: string): string {
  return g.op1('Mul', [x, g.op1('Sigmoid', [x])]);
}

export function relu(g: OnnxGraph, x: string): string {
  return g.op1('Relu', [x]);
}

/** Emitters keyed by config `hidden_act`, as core's ACTIVATIONS. */
export const ACTIVATION_EMITTERS: Readonly<Record<string, (g: OnnxGraph, x: string) => string>> = Object.freeze({
  gelu,
  gelu_python: gelu,
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu_fast: geluTanh,
  quick_gelu: quickGelu,
  relu,
  silu,
  swish: silu,
});

/** The emitter for a config's `hidden_act`; an E_UNSUPPORTED error names the ones there are. */
export function activation(g: OnnxGraph, x: string, hiddenAct: string): string {
  const emit = ACTIVATION_EMITTERS[hiddenAct];
  if (!emit) {
    throw new MmftError('E_UNSUPPORTED', `ONNX export has no emitter for hidden_act "${hiddenAct}"`, {
      hint: `supported: ${Object.keys(ACTIVATION_EMITTERS).join(', ')}`,
    });
  }
  return emit(g, x);
}
