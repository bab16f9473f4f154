// The wasm backend's kernel overrides, in install order (as tfjs-backend-wasm's
// register_all_kernels.ts lists its kernels): stock kernels mmft replaces, then mmft's fused
// kernels with their gradients. install.ts registers them.
import { Add, BatchMatMul, Cast, GatherV2, Identity, Sum, UnsortedSegmentSum } from '@tensorflow/tfjs-core';
import {
  AdamWUpdate,
  Attention,
  AttentionGrad,
  CrossEntropy,
  CrossEntropyGrad,
  LayerNorm,
  LayerNormGrad,
  MatMul4bit,
  MatMulPacked16,
  QuickGelu,
  QuickGeluGrad,
  Softmax,
  SoftmaxGrad,
  SumOfSquares,
} from '@mmft/core/kernels';
import { fusedKernel, type KernelOverride } from '../override';
import { attentionGradConfig } from '../gradients/Attention_grad';
import { crossEntropyGradConfig } from '../gradients/CrossEntropy_grad';
import { layerNormGradConfig } from '../gradients/LayerNorm_grad';
import { linearGradConfig, linearNoBiasGradConfig } from '../gradients/Linear_grad';
import { matMul4bitGradConfig } from '../gradients/MatMul4bit_grad';
import { matMulPacked16GradConfig } from '../gradients/MatMulPacked16_grad';
import { quickGeluGradConfig } from '../gradients/QuickGelu_grad';
import { maskedSoftmaxGradConfig, softmaxGradConfig } from '../gradients/Softmax_grad';
import { makeWasmAdd } from './Add';
import { wasmAdamWUpdate } from './AdamWUpdate';
import { wasmAttention } from './Attention';
import { wasmAttentionGrad } from './AttentionGrad';
import { makeWasmBatchMatMul } from './BatchMatMul';
import { makeWasmCast } from './Cast';
import { wasmCrossEntropy } from './CrossEntropy';
import { wasmCrossEntropyGrad } from './CrossEntropyGrad';
import { makeWasmGatherV2 } from './GatherV2';
import { makeWasmIdentity } from './Identity';
import { wasmLayerNorm } from './LayerNorm';
import { wasmLayerNormGrad } from './LayerNormGrad';
import { wasmLinear } from './Linear';
import { wasmLinearGradInput } from './LinearGradInput';
import { wasmLinearGradWeight } from './LinearGradWeight';
import { wasmLinearNoBias } from './LinearNoBias';
import { wasmMaskedSoftmax } from './MaskedSoftmax';
import { wasmMaskedSoftmaxGrad } from './MaskedSoftmaxGrad';
import { wasmMatMul4bit } from './MatMul4bit';
import { wasmMatMulPacked16 } from './MatMulPacked16';
import { wasmQuickGelu } from './QuickGelu';
import { wasmQuickGeluGrad } from './QuickGeluGrad';
import { wasmSoftmax } from './Softmax';
import { wasmSoftmaxGrad } from './SoftmaxGrad';
import { makeWasmSum } from './Sum';
import { wasmSumOfSquares } from './SumOfSquares';
import { wasmUnsortedSegmentSum } from './UnsortedSegmentSum';

/** The wasm overrides, in install order. */
export const WASM_KERNELS: readonly KernelOverride[] = [
  {
    kernelName: BatchMatMul,
    backendName: 'wasm',
    usesNative: ['MmftGemm'],
    make: (stock, { native }) => makeWasmBatchMatMul(stock!, native),
  },
  { kernelName: Sum, backendName: 'wasm', usesNative: ['MmftSumRows'], make: (stock) => makeWasmSum(stock!) },
  { kernelName: Identity, backendName: 'wasm', make: (stock) => makeWasmIdentity(stock!) },
  { kernelName: Cast, backendName: 'wasm', make: (stock) => makeWasmCast(stock!) },
  { kernelName: GatherV2, backendName: 'wasm', make: (stock) => makeWasmGatherV2(stock!) },
  { kernelName: UnsortedSegmentSum, backendName: 'wasm', fillsMissing: true, make: () => wasmUnsortedSegmentSum },
  fusedKernel(wasmLayerNorm, { gradient: layerNormGradConfig, usesNative: [LayerNorm] }),
  fusedKernel(wasmLayerNormGrad, { usesNative: [LayerNormGrad] }),
  fusedKernel(wasmAdamWUpdate, { usesNative: [AdamWUpdate] }),
  // Native only: in JavaScript quick_gelu lost to wasm's vectorised Sigmoid and Multiply
  // (docs/backends.md), and softmax has no JavaScript loop worth keeping. No fused exact GELU
  // on wasm (CLIP uses quick_gelu); the cpu backend's own kernels are JavaScript, so it wins there.
  fusedKernel(wasmQuickGelu, { gradient: quickGeluGradConfig, needsNative: [QuickGelu] }),
  fusedKernel(wasmQuickGeluGrad, { needsNative: [QuickGeluGrad] }),
  fusedKernel(wasmSoftmax, { gradient: softmaxGradConfig, needsNative: [Softmax] }),
  fusedKernel(wasmSoftmaxGrad, { needsNative: [SoftmaxGrad] }),
  // The masked softmax is the native softmax given a mask.
  fusedKernel(wasmMaskedSoftmax, { gradient: maskedSoftmaxGradConfig, needsNative: [Softmax] }),
  fusedKernel(wasmMaskedSoftmaxGrad, { needsNative: [SoftmaxGrad] }),
  fusedKernel(wasmAttention, { gradient: attentionGradConfig, needsNative: [Attention] }),
  fusedKernel(wasmAttentionGrad, { needsNative: [AttentionGrad] }),
  fusedKernel(wasmLinear, { gradient: linearGradConfig, needsNative: ['MmftGemm', 'MmftAddRepeated'] }),
  fusedKernel(wasmLinearNoBias, { gradient: linearNoBiasGradConfig, needsNative: ['MmftGemm', 'MmftAddRepeated'] }),
  fusedKernel(wasmLinearGradInput, { needsNative: ['MmftGemm', 'MmftAddRepeated'] }),
  fusedKernel(wasmLinearGradWeight, { needsNative: ['MmftGemm', 'MmftAddRepeated'] }),
  // Frozen weights held in 16 bits (frozen_dtype): decoded block by block inside the native GEMM.
  fusedKernel(wasmMatMulPacked16, { gradient: matMulPacked16GradConfig, needsNative: [MatMulPacked16] }),
  // Frozen weights held in 4 bits (QLoRA): the same, decoding bitsandbytes' blockwise codes.
  fusedKernel(wasmMatMul4bit, { gradient: matMul4bitGradConfig, needsNative: [MatMul4bit] }),
  fusedKernel(wasmSumOfSquares, { needsNative: [SumOfSquares] }),
  // The causal-LM loss: no [N, V] softmax between the passes (the logits are the memory wall).
  fusedKernel(wasmCrossEntropy, { gradient: crossEntropyGradConfig, needsNative: [CrossEntropy] }),
  fusedKernel(wasmCrossEntropyGrad, { needsNative: [CrossEntropyGrad] }),
  // Last, as it needs the addon too: without it the stock Add stays.
  { kernelName: Add, backendName: 'wasm', needsNative: ['MmftAddRepeated'], make: (stock) => makeWasmAdd(stock!) },
];
