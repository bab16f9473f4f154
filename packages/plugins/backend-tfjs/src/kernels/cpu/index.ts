// The cpu backend's kernel overrides: mmft's fused kernels in JavaScript (the backend's own kernels
// are JavaScript too, so every fusion wins there), with their gradients. install.ts registers them.
import { fusedKernel, type KernelOverride } from '../override';
import { crossEntropyGradConfig } from '../gradients/CrossEntropy_grad';
import { geluGradConfig } from '../gradients/Gelu_grad';
import { layerNormGradConfig } from '../gradients/LayerNorm_grad';
import { matMul4bitGradConfig } from '../gradients/MatMul4bit_grad';
import { matMulPacked16GradConfig } from '../gradients/MatMulPacked16_grad';
import { quickGeluGradConfig } from '../gradients/QuickGelu_grad';
import { cpuAdamWUpdate } from './AdamWUpdate';
import { cpuCrossEntropy } from './CrossEntropy';
import { cpuCrossEntropyGrad } from './CrossEntropyGrad';
import { cpuGelu } from './Gelu';
import { cpuGeluGrad } from './GeluGrad';
import { cpuLayerNorm } from './LayerNorm';
import { cpuLayerNormGrad } from './LayerNormGrad';
import { cpuDequantize4bit } from './Dequantize4bit';
import { cpuMatMul4bit } from './MatMul4bit';
import { cpuMatMulPacked16 } from './MatMulPacked16';
import { cpuQuickGelu } from './QuickGelu';
import { cpuQuickGeluGrad } from './QuickGeluGrad';

/** The cpu overrides, in install order. */
export const CPU_KERNELS: readonly KernelOverride[] = [
  fusedKernel(cpuLayerNorm, { gradient: layerNormGradConfig }),
  fusedKernel(cpuLayerNormGrad),
  fusedKernel(cpuQuickGelu, { gradient: quickGeluGradConfig }),
  fusedKernel(cpuQuickGeluGrad),
  fusedKernel(cpuGelu, { gradient: geluGradConfig }),
  fusedKernel(cpuGeluGrad),
  fusedKernel(cpuAdamWUpdate),
  fusedKernel(cpuCrossEntropy, { gradient: crossEntropyGradConfig }),
  fusedKernel(cpuCrossEntropyGrad),
  // Frozen weights held in 16 bits (frozen_dtype): decoded row by row, never as a whole float32 copy.
  fusedKernel(cpuMatMulPacked16, { gradient: matMulPacked16GradConfig }),
  // Frozen weights held in 4 bits (QLoRA): decoded row by row as well.
  fusedKernel(cpuMatMul4bit, { gradient: matMul4bitGradConfig }),
  fusedKernel(cpuDequantize4bit),
];
